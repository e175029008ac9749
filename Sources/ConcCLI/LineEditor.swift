// Every libedit call of the REPL: reading a line with editing, history and completion,
// our own getc (poll on stdin + the async-output pipe, UTF-8 decoding, Ctrl-C), and
// showing other units' output above the prompt.
@preconcurrency import CEditLine
import CConcSys
@preconcurrency import Glibc

/// What reading one line gave.
enum LineRead: Equatable {
    case line(String)
    /// Ctrl-C: drop the line being edited.
    case interrupted
    /// Ctrl-D on an empty line, or the end of the input.
    case endOfInput
}

/// Where the REPL's lines come from.
protocol LineSource: AnyObject {
    /// Reads one line after showing `prompt`.
    func read(prompt: String) -> LineRead
    /// Records an entered line in the history, if there is one.
    func remember(_ line: String)
    /// True when more input is already waiting (a paste in progress).
    var hasPendingInput: Bool { get }
    /// Called once at the end of the session.
    func close()
}

/// The editor whose callbacks libedit is calling (there is one line editor per process).
nonisolated(unsafe) private var activeEditor: LineEditor?  // set once on the REPL thread before libedit can call back; read only there

/// Line editing on a terminal, through libedit's readline-compatible API.
final class LineEditor: LineSource {
    /// Tab completion: (word before the cursor, line before the word) → replacements.
    let complete: (String, String) -> [String]
    /// The history file.
    let history: History
    /// Other units' output, shown above the prompt while it waits.
    let asyncOutput: AsyncOutput
    /// The prompt being shown (for redrawing it after async output).
    private(set) var prompt = ""
    /// The terminal's width as libedit knows it (read when a line starts or on resize).
    var columns = 80
    /// True while a completion runs only to update rl_line_buffer / rl_point.
    fileprivate var probing = false
    /// Keys to hand to libedit before reading more input (e.g. Enter after Ctrl-R).
    var pendingKeys: [Int32] = []
    /// Set while something other than libedit's line is shown (the Ctrl-R search line):
    /// how to clear it before async output and draw it again after.
    var overlay: (clear: () -> Void, draw: () -> Void)?

    init(history: History, asyncOutput: AsyncOutput, complete: @escaping (String, String) -> [String]) {
        self.history = history
        self.asyncOutput = asyncOutput
        self.complete = complete
        activeEditor = self
        // libedit drops non-ASCII input in the C locale; CI often has no LANG at all. Only
        // the character type is taken from the environment: a LC_NUMERIC with a decimal
        // comma must not change how the interpreter formats floats.
        if setlocale(LC_CTYPE, "") == nil || !isUTF8Locale() { _ = setlocale(LC_CTYPE, "C.UTF-8") }
        rl_readline_name = UnsafePointer(strdup("conc"))  // kept for the process's life
        rl_catch_signals = 0
        rl_getc_function = { _ in activeEditor?.nextCharacter() ?? -1 }
        rl_attempted_completion_function = { text, start, _ in completionMatches(text, start) }
        // CPython's rlcompleter delimiters: no '.', so `a.b.c` is one word.
        let breaks = strdup(" \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?")  // kept for the process's life
        rl_completer_word_break_characters = breaks
        rl_basic_word_break_characters = UnsafePointer(breaks)
        rl_completion_append_character = 0
        // Raw mode before the prompt appears: libedit draws the prompt first and switches
        // at its first read, so keys typed right after the prompt showed would be echoed
        // by the terminal and a Ctrl-D among them lost. The hook runs after readline()
        // saved the terminal's settings, which it restores when the line is done.
        rl_pre_input_hook = { rl_prep_terminal(1); return 0 }
        rl_initialize()
        // libedit's own incremental search loses the match after the second key: Ctrl-R
        // runs ours (ReverseSearch.swift).
        rl_add_defun("conc-reverse-search", { _, _ in activeEditor?.reverseSearch(); return 0 }, 18)
        history.load()
        CConcSys_set_sigint_wakeup_fd(asyncOutput.writeFD)
        _ = CConcSys_install_sigwinch_handler()
    }

    func read(prompt: String) -> LineRead {
        self.prompt = prompt
        columns = terminalColumns()
        CConcSys_sigint_clear()
        guard let raw = readline(prompt) else {
            if CConcSys_sigint_pending() != 0 { CConcSys_sigint_clear(); return .interrupted }
            return .endOfInput
        }
        defer { free(raw) }
        if CConcSys_sigint_pending() != 0 { CConcSys_sigint_clear(); return .interrupted }
        return .line(String(cString: raw))
    }

    func remember(_ line: String) {
        history.add(line)
        history.save()
    }

    var hasPendingInput: Bool { stdinHasInput() }

    func close() { history.save() }

    // MARK: - Called by libedit

    /// libedit's getc: waits for a key or for async output (shown at once) and returns one
    /// Unicode scalar (libedit takes the int as a wide character), or -1 for Ctrl-C / EOF.
    func nextCharacter() -> Int32 {
        if !pendingKeys.isEmpty { return pendingKeys.removeFirst() }
        while true {
            if CConcSys_sigint_pending() != 0 { return -1 }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: asyncOutput.readFD, events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, 2, -1)
            if r < 0 { if errno == EINTR { continue }; return -1 }
            if fds[1].revents != 0 {
                let pieces = asyncOutput.take()
                if CConcSys_take_sigwinch() != 0 { resized() }
                if !pieces.isEmpty { showAbovePrompt(pieces) }
                continue
            }
            if fds[0].revents != 0 {
                guard let lead = readByte() else { return -1 }  // end of input, or Ctrl-C
                return decodeUTF8(lead)
            }
        }
    }

    /// One byte of stdin (retrying after EINTR unless Ctrl-C), nil at EOF or error.
    private func readByte() -> UInt8? {
        var b: UInt8 = 0
        while true {
            let n = Glibc.read(0, &b, 1)
            if n == 1 { return b }
            if n < 0 && errno == EINTR && CConcSys_sigint_pending() == 0 { continue }
            return nil
        }
    }

    /// The scalar starting with `lead` (reading its continuation bytes).
    private func decodeUTF8(_ lead: UInt8) -> Int32 {
        let extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0
        if lead < 0x80 { return Int32(lead) }
        if extra == 0 { return 0xFFFD }  // a stray continuation byte
        var value = UInt32(lead) & (0x3F >> UInt32(extra))
        for _ in 0..<extra {
            guard let b = readByte(), b & 0xC0 == 0x80 else { return 0xFFFD }
            value = value << 6 | UInt32(b & 0x3F)
        }
        return Int32(bitPattern: value)
    }

    /// Clears the prompt's rows, writes `pieces`, and lets libedit redraw the prompt with
    /// the half-typed line and the cursor where they were.
    private func showAbovePrompt(_ pieces: [(String, Bool)]) {
        if let o = overlay {
            o.clear()
            for (text, isError) in pieces { writeAll(isError ? 2 : 1, text) }
            o.draw()
            return
        }
        updateLineState()
        clearPrompt(cursorAfter: textBeforeCursor())
        for (text, isError) in pieces {
            writeAll(isError ? 2 : 1, text)  // libedit's raw mode keeps ONLCR: "\n" moves to column 0
        }
        rl_forced_update_display()
    }

    /// The terminal changed size while a line is edited: libedit learns the new width
    /// (it only asks at the start of a line) and the line is drawn again.
    private func resized() {
        guard overlay == nil else { return }
        updateLineState()
        // Rows are counted with the old width: a terminal that does not reflow keeps the
        // line where it was, and clearing too few rows beats erasing earlier output.
        clearPrompt(cursorAfter: textBeforeCursor())
        columns = terminalColumns()
        rl_resize_terminal()
        rl_forced_update_display()
    }

    /// Makes rl_line_buffer and rl_point current. libedit updates them only around
    /// completion, so this runs a completion that completes nothing (`probing`).
    private func updateLineState() {
        probing = true
        _ = rl_complete(0, 9)
        probing = false
    }

    /// The line before the cursor (rl_point counts wide characters: Unicode scalars).
    func textBeforeCursor() -> String {
        let line = rl_line_buffer.map { String(cString: $0) } ?? ""
        return String(String.UnicodeScalarView(line.unicodeScalars.prefix(max(Int(rl_point), 0))))
    }

    /// Inserts `text` at the cursor and redraws the line (`cursorAfter`: the text before
    /// the cursor). Used by completion, where libedit would not redraw by itself.
    fileprivate func insert(_ text: String, cursorAfter typed: String) {
        guard !text.isEmpty else { return }
        rl_insert_text(text)
        clearPrompt(cursorAfter: typed)
        rl_forced_update_display()
    }

    /// Moves to the start of the prompt's first row and clears to the end of the screen,
    /// where libedit's full redraw (`rl_forced_update_display`) assumes the cursor is.
    func clearPrompt(cursorAfter typed: String) {
        let row = (displayWidth(prompt) + displayWidth(typed)) / max(columns, 1)
        writeAll(1, "\r" + (row > 0 ? "\u{1B}[\(row)A" : "") + "\u{1B}[J")
    }
}

/// Builds libedit's match array: [replacement, match1, match2, ..., NULL], malloc'ed.
private func completionMatches(_ text: UnsafePointer<CChar>?, _ start: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    rl_attempted_completion_over = 1  // never fall back to file names
    guard let editor = activeEditor, let text = text, !editor.probing else { return nil }
    let word = String(cString: text)
    let line = rl_line_buffer.map { String(cString: $0) } ?? ""
    // `start` counts wide characters, i.e. Unicode scalars.
    let before = String(String.UnicodeScalarView(line.unicodeScalars.prefix(Int(max(start, 0)))))
    if word.isEmpty && before.allSatisfy({ $0 == " " || $0 == "\t" }) {
        editor.insert("    ", cursorAfter: before)  // Tab at the start of a line indents
        return nil
    }
    let matches = editor.complete(word, before)
    guard !matches.isEmpty else { return nil }
    if matches.count == 1 {
        // Inserted here: libedit rings the bell after every single match it inserts.
        if matches[0].hasPrefix(word) { editor.insert(String(matches[0].dropFirst(word.count)), cursorAfter: before + word) }
        return nil
    }
    let common = matches.count == 1 ? matches[0] : commonPrefix(matches)
    // A single match is listed as [m, m, NULL]: libedit reads matches[2] to tell a single match.
    let listed = matches.count == 1 ? [matches[0]] : matches
    let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: listed.count + 2)  // libedit frees it and its strings
    array[0] = strdup(common.isEmpty ? word : common)
    for (i, m) in listed.enumerated() { array[i + 1] = strdup(m) }
    array[listed.count + 1] = nil
    return array
}

private func commonPrefix(_ words: [String]) -> String {
    guard var prefix = words.first.map({ Array($0.unicodeScalars) }) else { return "" }
    for w in words.dropFirst() {
        let s = Array(w.unicodeScalars)
        var n = 0
        while n < prefix.count && n < s.count && prefix[n] == s[n] { n += 1 }
        prefix.removeLast(prefix.count - n)
    }
    return String(String.UnicodeScalarView(prefix))
}

private func isUTF8Locale() -> Bool {
    guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
    return String(cString: codeset).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
}

/// True when stdin has bytes waiting right now.
func stdinHasInput() -> Bool {
    var fd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    return poll(&fd, 1, 0) > 0 && fd.revents & Int16(POLLIN) != 0
}

/// The terminal's width in columns (80 if unknown).
func terminalColumns() -> Int {
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 { return Int(ws.ws_col) }
    return 80
}

/// Columns `s` takes on a terminal (wcwidth per scalar; control characters count 0).
func displayWidth(_ s: String) -> Int {
    s.unicodeScalars.reduce(0) { $0 + max(Int(CConcSys_wcwidth($1.value)), 0) }
}

extension String {
    /// The string with every `target` replaced.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
