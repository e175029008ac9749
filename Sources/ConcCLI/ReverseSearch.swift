// Ctrl-R: reverse incremental search through the history, as in bash and python3.
@preconcurrency import CEditLine
@preconcurrency import Glibc

extension LineEditor {
    /// Runs the search (bound to Ctrl-R; libedit has just updated rl_line_buffer/rl_point).
    /// Keys: text narrows the search, Ctrl-R finds the next older match, Backspace
    /// widens it, Enter runs the match, Esc or a movement key keeps it for editing,
    /// Ctrl-G restores the line.
    func reverseSearch() {
        let columns = max(self.columns, 1)
        var pattern = ""
        var matchIndex: Int? = nil  // offset from history_base
        var shownWidth = displayWidth(prompt) + displayWidth(textBeforeCursor())
        let original = rl_line_buffer.map { String(cString: $0) } ?? ""

        func entry(_ i: Int) -> String? {
            guard let e = history_get(history_base + Int32(i)), let line = e.pointee.line else { return nil }
            return String(cString: line)
        }
        /// The newest entry at or before `start` containing `pattern`.
        func search(from start: Int) -> Int? {
            var i = start
            while i >= 0 {
                if let line = entry(i), pattern.isEmpty || line.contains(pattern) { return i }
                i -= 1
            }
            return nil
        }
        func draw() {
            let failed = !pattern.isEmpty && matchIndex == nil
            let text = "(\(failed ? "failed " : "")reverse-i-search)`\(pattern)': \(matchIndex.flatMap(entry) ?? original)"
            let row = shownWidth / columns
            writeAll(1, "\r" + (row > 0 ? "\u{1B}[\(row)A" : "") + "\u{1B}[J" + text)
            shownWidth = displayWidth(text)
        }
        func clear() {
            let row = shownWidth / columns
            writeAll(1, "\r" + (row > 0 ? "\u{1B}[\(row)A" : "") + "\u{1B}[J")
            shownWidth = 0
        }
        func finish(keep: Bool) {
            overlay = nil
            clear()
            if keep, let i = matchIndex, let line = entry(i) { rl_replace_line(line, 0) }
            rl_forced_update_display()
        }

        overlay = (clear: clear, draw: draw)
        draw()
        while true {
            let key = nextCharacter()
            switch key {
            case -1, 7:  // Ctrl-C / end of input, Ctrl-G
                finish(keep: false)
                if key == -1 { pendingKeys.append(-1) }
                return
            case 18:  // Ctrl-R again: an older match
                if let i = matchIndex { matchIndex = search(from: i - 1) ?? i }
                else { matchIndex = search(from: Int(history_length) - 1) }
            case 127, 8:
                if !pattern.isEmpty { pattern.removeLast() }
                matchIndex = search(from: Int(history_length) - 1)
            case 13, 10:
                finish(keep: true)
                pendingKeys.append(13)
                return
            case 27:
                // Esc keeps the match; an escape sequence (an arrow key: ESC [ A) is dropped.
                var next: Int32? = nil
                if stdinHasInput() {
                    let k = nextCharacter()
                    if k == 0x5B || k == 0x4F {  // '[' or 'O': read up to the final byte
                        while true { let c = nextCharacter(); if c < 0 || (c >= 0x40 && c <= 0x7E) { break } }
                    } else {
                        next = k
                    }
                }
                finish(keep: true)
                if let k = next { pendingKeys.append(k) }
                return
            case 0..<32:
                finish(keep: true)
                pendingKeys.append(key)  // Ctrl-A, Ctrl-E, ... act on the kept match
                return
            default:
                pattern.unicodeScalars.append(Unicode.Scalar(UInt32(key)) ?? "?")
                matchIndex = search(from: matchIndex ?? Int(history_length) - 1)
            }
            draw()
        }
    }
}
