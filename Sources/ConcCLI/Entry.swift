// The `conc` command: parse options, then run a file, a -c string, stdin, or the REPL hint.
import Conc
import Glibc

@main
struct Entry {
    static func main() {
        let options = Options.parseOrExit()
        exit(options.run())
    }
}
