# The walking helper: it only sees a frame object.
cpdef frame_to_stack(frame, int max_depth):
    stack = []
    while frame is not None and len(stack) < max_depth:
        stack.append(frame.f_code.co_name)     # expect-note: thread A {{reads `frame.f_code`}}
        frame = frame.f_back                   # expect-note: thread A {{reads `frame.f_back`}}
    return stack
