#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FreeraceSyntax

/// Standard output and standard error, written with `write(2)` and checked.
///
/// Foundation's `FileHandle.write` traps on a failed write (`2>/dev/full` ended the process with
/// SIGILL) and `print` drops errors silently; here a failed write is an error the caller turns
/// into exit status 2. A broken pipe kills the process by SIGPIPE as it does any Unix tool.
public enum Console {
    /// Standard streams that were closed when freerace started. Each is reserved with `/dev/null`
    /// so that no file opened later takes its number (a report written "to standard error" must
    /// never land in a source or an output file), and a write to it fails as if the stream were
    /// still closed.
    public static let closedAtStart: [Bool] = {
        (Int32(0)...2).map { fd in
            guard fcntl(fd, F_GETFD) == -1, errno == EBADF else { return false }
            let null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if null >= 0, null != fd { dup2(null, fd); close(null) }
            return true
        }
    }()

    /// Call first thing in `main`.
    public static func prepare() { _ = closedAtStart }

    /// Writes all of `bytes` to a descriptor; the errno of the failure, if any.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return nil
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Standard output; throws a `UsageError` (exit 2) when the write fails.
    public static func out(_ text: String) throws {
        guard !text.isEmpty else { return }
        if closedAtStart[1] { throw UsageError("cannot write to standard output: it is closed") }
        if let e = writeAll(1, Array(text.utf8)) {
            throw UsageError("cannot write to standard output: \(errorText(e))")
        }
    }

    /// Standard error. When even that fails there is no one left to tell: the run ends with 2.
    public static func err(_ text: String) {
        // nothing to say is no failure, even with standard error closed
        guard !text.isEmpty else { return }
        if closedAtStart[2] || writeAll(2, Array(PathText.display(text).utf8)) != nil { exit(2) }
    }
}

/// Writing a report, a baseline or a script without damaging what is at the path.
///
/// - A symbolic link is written through: its target gets the content, the link stays.
/// - A FIFO or a character device (`/dev/null`, `/dev/stdout`, a terminal) is opened and written
///   as it is, never replaced by a regular file.
/// - A regular file is replaced atomically (a temporary file in the same folder, then `rename`),
///   keeping its mode, owner and group; so is a path where nothing exists yet. A failed write
///   leaves the old file as it was and no temporary file behind.
/// - A regular file we may not write is refused, as is a directory, a socket or a block device.
///   A file owned by another user that we may write but cannot give back its owner is written
///   in place (not atomically), so it keeps its owner.
public enum OutputFile {
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let target = FileSystem.followLinks(path)
        func fail(_ why: String) -> UsageError { UsageError("cannot write \(path): \(why)") }
        guard let st = FileSystem.status(target, followLinks: false) else {
            let dir = FileSystem.parent(target)
            guard let d = FileSystem.status(dir) else { throw fail("folder \(dir) does not exist") }
            guard d.kind == .directory else { throw fail("\(dir) is not a folder") }
            let mask = umask(0)
            umask(mask)
            try replaceAtomically(target, bytes, mode: 0o666 & ~UInt32(mask), owner: nil, fail)
            return
        }
        switch st.kind {
        case .fifo, .characterDevice:
            try writeInPlace(target, bytes, truncate: false, fail)
        case .regular:
            guard FileSystem.withCPath(target, { access($0, W_OK) }) == 0 else {
                throw fail(errno == EACCES || errno == EROFS ? "the file is not writable (\(Console.errorText(errno)))"
                                                             : Console.errorText(errno))
            }
            let me = geteuid()
            if st.owner != me && me != 0 {
                // we may write it, but a replacement would be ours: keep the file, write into it
                try writeInPlace(target, bytes, truncate: true, fail)
            } else {
                try replaceAtomically(target, bytes, mode: st.mode, owner: (st.owner, st.group), fail)
            }
        case .directory:
            throw fail("it is a folder")
        case .symlink:
            throw fail("too many levels of symbolic links")
        default:
            throw fail("it is not a regular file, a FIFO or a character device")
        }
    }

    static func writeInPlace(_ path: String, _ bytes: [UInt8], truncate: Bool, _ fail: (String) -> UsageError) throws {
        let fd = FileSystem.withCPath(path) { open($0, O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0)) }
        guard fd >= 0 else { throw fail(Console.errorText(errno)) }
        defer { close(fd) }
        if let e = Console.writeAll(fd, bytes) { throw fail(Console.errorText(e)) }
    }

    static func replaceAtomically(_ path: String, _ bytes: [UInt8], mode: UInt32, owner: (UInt32, UInt32)?,
                                  _ fail: (String) -> UsageError) throws {
        var template = PathText.bytes(FileSystem.join(FileSystem.parent(path), "." + FileSystem.baseName(path) + ".freerace-XXXXXX"))
        template.append(0)
        let fd = template.withUnsafeMutableBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { mkstemp($0.baseAddress!) }
        }
        guard fd >= 0 else { throw fail(Console.errorText(errno)) }
        let tmp = PathText.decode(template.dropLast())
        var closed = false
        func abandon(_ why: String) -> UsageError {
            if !closed { close(fd) }
            _ = FileSystem.withCPath(tmp) { unlink($0) }
            return fail(why)
        }
        if let e = Console.writeAll(fd, bytes) { throw abandon(Console.errorText(e)) }
        if let (uid, gid) = owner, uid != geteuid() || gid != getegid() {
            // root replacing another user's file: give it back its owner (best effort for the group)
            if fchown(fd, uid_t(uid), gid_t(gid)) != 0, fchown(fd, uid_t(uid), gid_t(UInt32.max)) != 0 {
                throw abandon("cannot keep its owner: \(Console.errorText(errno))")
            }
        }
        if fchmod(fd, mode_t(mode)) != 0 { throw abandon(Console.errorText(errno)) }
        if fsync(fd) != 0, errno != EINVAL, errno != EROFS { throw abandon(Console.errorText(errno)) }
        closed = true
        if close(fd) != 0 { throw abandon(Console.errorText(errno)) }
        let r = FileSystem.withCPath(tmp) { t in FileSystem.withCPath(path) { rename(t, $0) } }
        if r != 0 { throw abandon(Console.errorText(errno)) }
    }
}
