#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's peak resident memory, for the per-run column of the latency table.
public enum PeakMemory {
    /// The largest resident set this process has had so far, in bytes; nil if it cannot be read. The peak
    /// never decreases, so read after a run it covers that run and everything the process did before it.
    ///
    /// On Linux the kernel's high-water mark of this program (`VmHWM` in /proc/self/status) comes first:
    /// `getrusage`'s ru_maxrss keeps the peak of the image a process had before `execve`, so a `vispruner`
    /// started by a large parent (`swift run`, a Python driver) that forked would report the parent's size.
    public static func residentBytes() -> Int64? {
        #if os(Linux)
        if let hwm = highWaterMark() { return hwm }
        #endif
        var usage = rusage()
        #if canImport(Darwin)
        let who = RUSAGE_SELF
        #else
        let who = RUSAGE_SELF.rawValue  // Glibc imports the constant as an enum case, the call takes its Int32
        #endif
        guard getrusage(who, &usage) == 0 else { return nil }
        #if canImport(Darwin)
        return Int64(usage.ru_maxrss)  // bytes on Darwin
        #else
        return Int64(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #endif
    }

    #if os(Linux)
    /// `VmHWM:   123456 kB` from /proc/self/status.
    static func highWaterMark() -> Int64? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            guard text.hasPrefix("VmHWM:") else { continue }
            let fields = text.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard let kb = fields.first.flatMap({ Int64($0) }), fields.dropFirst().first == "kB" else { return nil }
            return kb * 1024
        }
        return nil
    }
    #endif
}
