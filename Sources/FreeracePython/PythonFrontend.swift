public enum FreeracePythonFrontend {}
