/* The default RAISR filter banks, committed as lib/sr/banks/raisr-x{2,3,4}.bank
 * (trained by `make bank`, see man/aie-train.1) and embedded here so every tool
 * has them without an installed data directory. A bank file that is missing
 * embeds as empty: aie_raisr_bank_builtin() then reports AIE_ENOENT. */
#include <stdint.h>

#define AIE_EMBED(sym, file)                                                                   \
    __asm__(".section .rodata\n.balign 64\n.globl " #sym "\n" #sym ":\n.incbin \"" file "\"\n" \
            ".balign 8\n.globl " #sym "_size\n" #sym "_size:\n.8byte . - " #sym "\n.previous\n")
#define AIE_EMBED_EMPTY(sym)                                                                   \
    __asm__(".section .rodata\n.balign 64\n.globl " #sym "\n" #sym ":\n"                       \
            ".balign 8\n.globl " #sym "_size\n" #sym "_size:\n.8byte 0\n.previous\n")

#if __has_include("banks/raisr-x2.bank")
AIE_EMBED(aie_raisr_builtin_x2, "lib/sr/banks/raisr-x2.bank");
#else
AIE_EMBED_EMPTY(aie_raisr_builtin_x2);
#endif
#if __has_include("banks/raisr-x3.bank")
AIE_EMBED(aie_raisr_builtin_x3, "lib/sr/banks/raisr-x3.bank");
#else
AIE_EMBED_EMPTY(aie_raisr_builtin_x3);
#endif
#if __has_include("banks/raisr-x4.bank")
AIE_EMBED(aie_raisr_builtin_x4, "lib/sr/banks/raisr-x4.bank");
#else
AIE_EMBED_EMPTY(aie_raisr_builtin_x4);
#endif
