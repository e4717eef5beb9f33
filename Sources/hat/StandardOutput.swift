#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// Makes standard output line-buffered, so progress lines stay in order with errors (stderr)
/// also when the output goes through a pipe. (The C `stdout` variable is shared mutable state to
/// Swift 6's checker; it is touched here alone, once, before any work starts.)
func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
