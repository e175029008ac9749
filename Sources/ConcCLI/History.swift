// The REPL's history file: `~/.conc_history` (or $CONC_HISTORY), libedit's own format,
// at most `History.limit` lines, readable by its owner only.
@preconcurrency import CEditLine
@preconcurrency import Glibc

/// Where the history lives and how it is loaded and saved (only for a terminal session).
struct History {
    /// The most lines kept, in memory and in the file.
    static let limit: Int32 = 1000
    /// The file's path; nil when history is off (`CONC_HISTORY=` empty, or no HOME).
    let path: String?

    init(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) {
        if let p = environment("CONC_HISTORY") {
            path = p.isEmpty ? nil : p
        } else if let home = environment("HOME"), !home.isEmpty {
            path = home + "/.conc_history"
        } else {
            path = nil
        }
    }

    /// Starts libedit's history list, bounded, with the saved lines.
    func load() {
        using_history()
        stifle_history(History.limit)
        if let p = path { _ = read_history(p) }
    }

    /// Adds an entered line (not blank, not a repeat of the previous one).
    func add(_ line: String) {
        guard line.contains(where: { $0 != " " && $0 != "\t" }) else { return }
        if history_length > 0, let last = history_get(history_base + history_length - 1),
           let text = last.pointee.line, String(cString: text) == line { return }
        add_history(line)
    }

    /// Writes the list to the file, creating it with mode 600 first.
    func save() {
        guard let p = path else { return }
        let fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        _ = write_history(p)
        chmod(p, 0o600)
    }
}
