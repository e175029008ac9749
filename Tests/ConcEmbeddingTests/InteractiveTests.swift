// The REPL's part of the public API: runInteractive (echo, `_`, errors that do not end
// the session, SystemExit), isIncompleteInput, completions and help().
import Conc
import Testing

@Test func interactiveInputEchoesValuesAndKeepsUnderscore() {
    let conc = Interpreter(output: .capture, errors: .capture)
    #expect(conc.runInteractive("1 + 1\n") == nil)
    #expect(conc.runInteractive("None\n") == nil)
    #expect(conc.runInteractive("_ * 10\n") == nil)
    #expect(conc.runInteractive("for i in range(2):\n    i\n\n") == nil)
    #expect(conc.runInteractive("def f():\n    5\n    return 'r'\n\n") == nil)
    #expect(conc.runInteractive("f()\n") == nil)
    #expect(conc.capturedOutput == "2\n20\n0\n1\n'r'\n")
    // A global `_` the user assigns shadows the last value.
    #expect(conc.runInteractive("_ = 'mine'\n") == nil)
    #expect(conc.runInteractive("7\n") == nil)
    #expect(conc.runInteractive("_\n") == nil)
    #expect(conc.capturedOutput.hasSuffix("7\n'mine'\n"))
}

@Test func interactiveErrorsArePrintedAndTheSessionGoesOn() {
    let conc = Interpreter(output: .capture, errors: .capture)
    #expect(conc.runInteractive("x = 5\n") == nil)
    #expect(conc.runInteractive("1/0\n") == nil)
    #expect(conc.runInteractive("x = )\n") == nil)
    #expect(conc.capturedErrors.contains("ZeroDivisionError: division by zero"))
    #expect(conc.capturedErrors.contains("SyntaxError"))
    #expect(conc[global: "x"] == .int(5))
    #expect(conc.runInteractive("exit(4)\n") == 4)
    #expect(conc.runInteractive("quit()\n") == 0)
}

@Test func incompleteInputDecidesContinuationLines() {
    #expect(Interpreter.isIncompleteInput("def f():"))
    #expect(Interpreter.isIncompleteInput("def f():\n    return 1"))
    #expect(!Interpreter.isIncompleteInput("def f():\n    return 1\n"))
    #expect(Interpreter.isIncompleteInput("x = [1,"))
    #expect(!Interpreter.isIncompleteInput("x = 1"))
}

@Test func completionsOfNamesAttributesAndModules() {
    let conc = Interpreter(output: .capture)
    #expect(conc.runInteractive("class Point:\n    def __init__(self):\n        self.xval = 1\n    def norm(self): return 0\n\np = Point()\ncounter = 1\n") == nil)
    #expect(conc.completions(of: "coun", after: "") == ["counter"])
    #expect(conc.completions(of: "pri", after: "x = ").contains("print("))
    #expect(conc.completions(of: "whi", after: "") == ["while"])
    #expect(conc.completions(of: "p.", after: "") == ["p.norm(", "p.xval"])
    #expect(conc.completions(of: "Poi", after: "") == ["Point("])
    #expect(conc.completions(of: "p.x", after: "") == ["p.xval"])
    #expect(conc.completions(of: "ma", after: "import ").contains("math"))
    #expect(conc.completions(of: "js", after: "import ").contains("json"))
    #expect(conc.completions(of: "nothing.", after: "") == [])
}

@Test func completionNeverRunsCode() {
    let conc = Interpreter(output: .capture)
    let setup = "class C:\n    @property\n    def boom(self):\n        print('ran')\n        return 1\n\nc = C()\n"
    #expect(conc.runInteractive(setup) == nil)
    _ = conc.completions(of: "c.boom.", after: "")
    _ = conc.completions(of: "c.", after: "")
    #expect(conc.capturedOutput == "")
}

@Test func helpExplainsBuiltinsTopicsAndUserCode() {
    let conc = Interpreter(output: .capture)
    #expect(conc.runInteractive("help()\nhelp(len)\nhelp('queue')\nhelp('go')\n") == nil)
    #expect(conc.runInteractive("def add(a, b=2, *rest, key=None):\n    \"Add things.\"\n    return a\n\nhelp(add)\n") == nil)
    let out = conc.capturedOutput
    #expect(out.contains("help(x) explains x"))
    #expect(out.contains("len(x)"))
    #expect(out.contains("FIFO"))
    #expect(out.contains("green thread"))
    #expect(out.contains("add(a, b=2, *rest, key=None)\n    Add things.\n"))
}
