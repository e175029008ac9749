#if defined(__x86_64__)
    .text
    .globl CConcCoro_switch
    .type CConcCoro_switch,@function
/* void CConcCoro_switch(void **save [rdi], void *load [rsi]): saves callee-saved registers
   and the FP control words on the current stack, stores rsp in *save, switches to load. */
CConcCoro_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq  $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq  %rsp, (%rdi)
    movq  %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq  $8, %rsp
    popq  %r15
    popq  %r14
    popq  %r13
    popq  %r12
    popq  %rbx
    popq  %rbp
    ret
    .cfi_endproc
    .size CConcCoro_switch, .-CConcCoro_switch

    .globl CConcCoro_trampoline
    .type CConcCoro_trampoline,@function
/* First entry of a coroutine: r12 = entry function, r13 = its argument. */
CConcCoro_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    callq *%r12
    ud2
    .cfi_endproc
    .size CConcCoro_trampoline, .-CConcCoro_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
