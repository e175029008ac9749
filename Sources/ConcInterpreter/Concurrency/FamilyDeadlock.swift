// Deadlock detection across processes: the processes that share one arena (the program's
// process and every process forked from it) form a family, with one slot each in the
// arena's family table (CConcShared/family.c). A process is "quiescent" while every one of
// its units is parked with no timeout (on anything: waits another process could end
// count too). The family is deadlocked when every live process is quiescent and every
// wait, re-checked after that was seen, still cannot proceed. The checker is the main unit
// of the live process with the lowest slot (the program's own process, normally), which
// looks at each of its naps while parked; see docs/design.md, "Deadlock detection".
import CConcShared
#if canImport(Glibc)
import Glibc
#endif

/// A live, quiescent process as the checker saw it.
struct FamilyMember: Equatable {
    let slot: Int32
    let pid: pid_t
    let seq: UInt32
}

extension Engine {
    /// Before a fork: makes sure this process has a family slot (the program's process
    /// claims one at its first spawn, so it gets the lowest), and claims one for the child
    /// (pid 0 until the fork returns; "running" until the child itself parks). -1 when the
    /// table is full: the family is then untracked and never reported.
    func claimFamilySlots() -> Int32 {
        guard let f = familyStorage else { return -1 }
        if units.familySlot < 0 {
            let s = conc_family_claim(f, getpid())
            if s < 0 { warnIfFamilyFull(s); return -1 }
            conc_family_set_name(f, s, processName)
            units.setFamily(f, slot: s)
        }
        let s = conc_family_claim(f, 0)
        warnIfFamilyFull(s)
        return s
    }

    /// Once per family, when its table of processes overflows: from then on a deadlock
    /// between processes is not explained (§5 promises an explanation; say why there is none).
    private func warnIfFamilyFull(_ claimed: Int32) {
        guard claimed == -2 else { return }
        stderr.write("warning: more than \(CONC_FAMILY_SLOTS) processes at once: Conc stops checking this program's processes for deadlocks, so a deadlock between them will hang instead of being explained\n")
    }

    /// In a freshly forked child: take over the slot the parent claimed for it.
    func joinFamily(slot: Int32, name: String) {
        guard let f = familyStorage, slot >= 0 else { return }
        conc_family_set_pid(f, slot, getpid())
        conc_family_set_name(f, slot, name)
        units.setFamily(f, slot: slot)
    }

    /// A child os.fork() made was reaped: its slot is free again, whether or not it gave it
    /// back itself (killed, or ended by a path that skips the end of the program).
    func releaseFamilySlot(ofReaped pid: pid_t) {
        guard let f = familyStorage else { return }
        for i in 0..<Int32(CONC_FAMILY_SLOTS) where conc_family_used(f, i) != 0 && conc_family_pid(f, i) == pid {
            conc_family_release(f, i, pid)
        }
    }

    /// At a child's exit (after its outcome is posted): gives its slot back.
    func leaveFamily() {
        guard let f = familyStorage, units.familySlot >= 0 else { return }
        conc_family_release(f, units.familySlot, getpid())
    }

    /// The live processes of the family when every one of them is quiescent, in slot order;
    /// nil when one is running (or still being forked), or the family is untracked.
    private func familySnapshot(_ f: OpaquePointer) -> [FamilyMember]? {
        if conc_family_untracked(f) != 0 { return nil }
        let me = getpid()
        var members: [FamilyMember] = []
        for i in 0..<Int32(CONC_FAMILY_SLOTS) where conc_family_used(f, i) != 0 {
            let pid = conc_family_pid(f, i)
            if pid == 0 { return nil }  // a fork under way
            let seq = conc_family_seq(f, i)
            // A process that has exited (or is a zombie) can never act again: not a member.
            if pid != me && conc_process_alive(pid) == 0 { continue }
            if seq & 1 == 0 { return nil }
            members.append(FamilyMember(slot: i, pid: pid, seq: seq))
        }
        return members
    }

    /// Run by the main unit after each nap of a wait with no timeout: when this process is
    /// the family's checker and the whole family is deadlocked, the report to raise.
    ///
    /// Exactness: a round starts only after a snapshot in which every live process was
    /// quiescent; each process confirms the round only if, at that moment, every wait of
    /// each of its units still cannot proceed; the report is made only if a second snapshot
    /// after all confirmations shows every process with the same odd seq. A seq changes
    /// whenever a unit leaves its park, so no unit of the family ran between the two
    /// snapshots: nothing was signalled after the confirmations, and nothing signalled
    /// before them went unnoticed (the confirmation re-checked every wait).
    func familyCheck() -> String? {
        guard let f = familyStorage, units.withLock({ units.quiescent && units.familySlot >= 0 }) else {
            familyPending = nil
            return nil
        }
        guard let snap = familySnapshot(f), snap.first?.slot == units.familySlot else { familyPending = nil; return nil }
        if let p = familyPending, p.snapshot == snap {
            guard snap.allSatisfy({ conc_family_confirmed(f, $0.slot, p.round, $0.seq) != 0 }) else { return nil }
            let report = familyReport(f, snap)
            guard familySnapshot(f) == snap else { familyPending = nil; return nil }
            familyPending = nil
            familyDeadlockPids = snap.map(\.pid).filter { $0 != getpid() }
            // Every unit named stays blocked, as the report says, whatever this unit's
            // unwinding releases (a `with lock:` block, say) before the program ends.
            for m in snap where m.pid != getpid() { conc_family_freeze(f, m.slot) }
            units.freezeAllButMain()
            return report
        }
        familyPending = (conc_family_new_round(f), snap)
        units.confirmFamilyRound(line: familyReportLine)
        return nil
    }

    /// One unit's line in a family report: "worker, holding lock a (created at line 3,
    /// acquired at line 9), waits to acquire lock b (created at line 4), held by process
    /// two". A child process's main unit goes by the process's name (they are one to the
    /// learner; "MainThread" would read as the program's); what it holds comes first, since
    /// a unit of another process may wait for it.
    func familyReportLine(_ u: Unit, _ waits: String) -> String {
        let name = reportName(u)
        let held = lockHoldings(u)
        return held.isEmpty ? "\(name) \(waits)" : "\(name), holding \(held), \(waits)"
    }

    /// A unit as a deadlock report names it: a child process's main unit by the process's
    /// name ("worker", not "MainThread").
    func reportName(_ u: Unit) -> String { isChildProcessMain(u) ? processName : u.name }

    /// A unit as a message names it: a child process's main unit is "process NAME".
    func unitLabel(_ u: Unit) -> String {
        isChildProcessMain(u) ? "process \(processName)" : u.name
    }

    /// True for the one unit a spawned child starts with (named "MainThread", as CPython's).
    private func isChildProcessMain(_ u: Unit) -> Bool { u === mainUnit && parentPid != nil }

    /// "lock a (created at line 3, acquired at line 9)" for the locks `u` holds among the
    /// main module's globals and the items of its global lists and tuples ("" if none).
    func lockHoldings(_ u: Unit) -> String {
        var held: [String] = []
        var seen: Set<ObjectIdentifier> = []
        func consider(_ v: Value) {
            guard case .obj(let o) = v else { return }
            let l = (o as? PyLock) ?? (o as? PyCondition)?.lock
            guard let lock = l, lock.owner == u.unitID, seen.insert(ObjectIdentifier(lock)).inserted else { return }
            var d = lock.described(self)
            if lock.acquiredCode != nil { d.removeLast(); d += ", acquired at \(displayLocation(lock.acquiredAt)))" }
            held.append(d)
        }
        let g = mainGlobals
        for n in g.boundNames {
            guard let v = g.get(n) else { continue }
            consider(v)
            if case .obj(let o) = v, let items = (o as? PyList)?.snapshot ?? (o as? PyTuple)?.items {
                for item in items.prefix(64) { consider(item) }
            }
        }
        return held.joined(separator: " and ")
    }

    /// The name of the family's process `pid` ("Process-1"), if it has a slot.
    func familyName(of pid: pid_t) -> String? {
        guard let f = familyStorage else { return nil }
        for i in 0..<Int32(CONC_FAMILY_SLOTS) where conc_family_used(f, i) != 0 && conc_family_pid(f, i) == pid {
            return readSlot(f, i).name
        }
        return nil
    }

    private func readSlot(_ f: OpaquePointer, _ slot: Int32) -> (name: String, text: String, edges: [UInt64]) {
        var name = [CChar](repeating: 0, count: Int(CONC_FAMILY_NAME))
        var text = [CChar](repeating: 0, count: Int(CONC_FAMILY_TEXT))
        var edges = [UInt64](repeating: 0, count: Int(CONC_FAMILY_EDGES))
        var n: UInt32 = 0
        conc_family_read(f, slot, &name, name.count, &text, text.count, &edges, &n)
        return (String(cString: name), String(cString: text), Array(edges.prefix(Int(n))))
    }

    /// Every process's blocked units in words, the chain of waits from this process and
    /// the usual fixes.
    private func familyReport(_ f: OpaquePointer, _ snap: [FamilyMember]) -> String {
        var lines = ["every process is blocked and none of them can wake another:"]
        var info: [pid_t: (name: String, edges: [UInt64], waits: [Substring])] = [:]
        for m in snap {
            let s = readSlot(f, m.slot)
            info[m.pid] = (s.name, s.edges, s.text.split(separator: "\n"))
            lines.append("  process \(s.name) (pid \(m.pid)):")
            for l in s.text.split(separator: "\n") { lines.append("    " + l) }
        }
        // Follow "waits for that process" edges (joins, locks held there) from this process.
        let me = getpid()
        var path: [pid_t] = [me]
        var kinds: [UInt64] = []
        var cycleAt: Int? = nil
        while let e = info[path.last!]?.edges.first(where: { info[pid_t(truncatingIfNeeded: $0 & 0xffff_ffff)] != nil }) {
            let next = pid_t(truncatingIfNeeded: e & 0xffff_ffff)
            kinds.append(e >> 32)
            if let i = path.firstIndex(of: next) { cycleAt = i; path.append(next); break }
            path.append(next)
        }
        let name = { (p: pid_t) in info[p]?.name ?? "pid \(p)" }
        let allKinds = Set(info.values.flatMap { $0.edges.map { $0 >> 32 } })
        if let c = cycleAt {
            lines.append("  cycle: " + path[c...].map(name).joined(separator: " -> "))
        } else if path.count >= 2 {
            var words: [String] = []
            for (i, k) in kinds.enumerated() {
                words.append("\(name(path[i])) waits for \(name(path[i + 1])) " + (k == 1 ? "to finish" : "to release a lock"))
            }
            // The last one's wait, when it has one unit: "waits to get from queue q (...)".
            let last = path.last!
            var what = "waits for something only another process could put, set, release or notify"
            if let w = info[last]?.waits, w.count == 1 {
                let words = w[0].split(separator: " ", omittingEmptySubsequences: false)
                if let i = words.firstIndex(of: "waits"), i > 0 { what = words[i...].joined(separator: " ") }
            }
            lines.append("  " + words.joined(separator: ", ") + "; \(name(last)) \(what), and only another process could change that, but all of them are blocked")
        } else {
            lines.append("  nothing left running in any process can release, set, put or notify what they wait for")
        }
        // Only the fixes that fit what was found: a cycle of processes holding locks the
        // next one wants is about lock order, not about this process's join.
        let cycle = cycleAt.map { Array(path[$0...]) }
        let cycleKinds = cycleAt.map { Array(kinds[$0...]) } ?? []
        let lockCycle = !cycleKinds.isEmpty && cycleKinds.allSatisfy { $0 == 2 }
        let waitsForMyLock = info.values.contains { $0.edges.contains { $0 >> 32 == 2 && pid_t(truncatingIfNeeded: $0 & 0xffff_ffff) == me } }
        if kinds.first == 1 && !lockCycle && (cycle == nil || cycle!.contains(me)) {
            lines.append("  fix: a child that waits for something from its parent never finishes while the parent is blocked joining it: put(), set() or release() what it needs before join(), or join(timeout=...)")
        }
        if waitsForMyLock {
            lines.append("  fix: release the locks a child process needs before joining it")
        }
        if lockCycle || (allKinds.contains(2) && !waitsForMyLock) {
            lines.append("  fix: take the locks in the same order in every process, hold one at a time, or use acquire(timeout=...) and back off")
        }
        if cycle == nil {
            lines.append("  fix: make sure every wait has a unit in some process that will signal it (a missing release(), set(), put() or notify()), or wait with a timeout")
        }
        return lines.joined(separator: "\n")
    }

    /// After a family DeadlockError in this process: the other processes of the family can
    /// never finish, so they get SIGTERM (SIGKILL if they outlive it by a second) and are
    /// reaped: this process's children directly; deeper descendants once their parent is
    /// gone, as this process is made their subreaper for the while (else they would be
    /// left to init as zombies).
    func terminateDeadlockedProcesses() {
        let pids = familyDeadlockPids
        guard !pids.isEmpty else { return }
        familyDeadlockPids = []
        _ = conc_set_child_subreaper(1)
        defer { _ = conc_set_child_subreaper(0) }
        // All stopped first: one that died before another got its signal would let that
        // one take over what it held and go on, printing after the report.
        for pid in pids { kill(pid, SIGSTOP) }
        for pid in pids { kill(pid, SIGTERM) }
        for pid in pids { kill(pid, SIGCONT) }
        let deadline = monotonicSeconds() + 1
        var own: Set<pid_t> = []
        for h in children {
            guard let p = h.process, pids.contains(p.pid) else { continue }
            own.insert(p.pid)
            while !p.reap(wait: false) {
                if monotonicSeconds() > deadline { kill(p.pid, SIGKILL); _ = p.reap(wait: true); break }
                usleep(2000)
            }
        }
        for pid in pids where !own.contains(pid) {
            var status: Int32 = 0
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { break }
                if r == -1 && errno == EINTR { continue }
                // Not (yet) our child: its parent still lives, or reaped it already.
                if r == -1 && errno == ECHILD && kill(pid, 0) == -1 && errno == ESRCH { break }
                if monotonicSeconds() > deadline + 1 { kill(pid, SIGKILL); break }
                if monotonicSeconds() > deadline { kill(pid, SIGKILL) }
                usleep(2000)
            }
        }
    }
}
