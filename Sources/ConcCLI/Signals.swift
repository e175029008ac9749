// Ctrl-C: a SIGINT handler (installed without SA_RESTART, so blocking calls return EINTR)
// that raises the interpreter's interrupt flag; the evaluator turns it into KeyboardInterrupt.
import CConcSys

func installInterruptHandler(_ flag: UnsafeMutablePointer<Int32>) {
    _ = CConcSys_install_sigint_handler()
    CConcSys_set_interrupt_target(flag)
    // As CPython: writing to a pipe nobody reads raises BrokenPipeError (os.write, a
    // connection's send) instead of killing the process. Output to a closed stdout or
    // stderr still ends the program quietly, as before (CConcSys_write_all).
    CConcSys_ignore_sigpipe()
}
