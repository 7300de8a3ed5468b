// Reset, vector table and board services of the firmware (QEMU mps2-an386, Cortex-M4F): what runs before and
// around the Swift `main`.
//
// Reset: enable the FPU (CP10/CP11) before any float instruction, copy .data/.tdata from flash, zero .bss/.tbss,
// point picolibc's thread pointer at the TLS block (its malloc writes errno there), paint the stack with a pattern
// so `fw_stack_peak` can report the deepest use, call `main`, and exit QEMU with its status through semihosting.
// Faults print their name and exit with status 3, so a crash never hangs the test (the script also uses timeouts).

#include <stdint.h>
#include "Firmware.h"

extern uint32_t __data_start[], __data_end[], __data_source[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[], __tls_base[];
extern int main(int argc, char **argv);
extern void _set_tls(void *tls);  // picolibc

#define STACK_PAINT 0xC5C5C5C5u

// ---- semihosting (ARM DUI 0471, "Semihosting operations"): BKPT 0xAB with the operation in r0, argument in r1

static inline uintptr_t semihost(uintptr_t op, const void *arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_GET_CMDLINE = 0x15, SYS_EXIT_EXTENDED = 0x20 };

static uintptr_t console = (uintptr_t)-1;  // semihosting handle of ":tt" opened for writing
static char outBuffer[512];                // [512] bytes not yet written to the console
static unsigned outCount;

void fw_flush(void) {
  if (outCount == 0) return;
  if (console == (uintptr_t)-1) {
    uintptr_t args[3] = {(uintptr_t)":tt", 4 /* "w" */, 3};
    console = semihost(SYS_OPEN, args);
  }
  uintptr_t args[3] = {console, (uintptr_t)outBuffer, outCount};
  semihost(SYS_WRITE, args);
  outCount = 0;
}

void fw_write(const uint8_t *bytes, int count) {
  for (int i = 0; i < count; i++) {
    if (outCount == sizeof outBuffer) fw_flush();
    outBuffer[outCount++] = (char)bytes[i];
  }
}

void fw_exit(int status) {
  fw_flush();
  // ADP_Stopped_ApplicationExit (0x20026) with the exit status: QEMU exits with exactly this status.
  uintptr_t args[2] = {0x20026, (uintptr_t)status};
  semihost(SYS_EXIT_EXTENDED, args);
  for (;;) {}
}

int fw_command_line(char *buffer, int capacity) {
  uintptr_t args[2] = {(uintptr_t)buffer, (uintptr_t)capacity};
  if (semihost(SYS_GET_CMDLINE, args) != 0) return -1;
  return (int)args[1];
}

// ---- stack high-water mark

uint32_t fw_stack_peak(void) {
  const uint32_t *p = __stack_bottom;
  while (p < __stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

void fw_stack_repaint(void) {
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
}

uint32_t fw_stack_reserved(void) { return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom); }

// ---- instruction-count markers: tools/firmware counts the instructions QEMU executes between a call of
// fw_mark_begin and the next call of fw_mark_end (noinline and distinct, so each has its own address).

__attribute__((noinline)) void fw_mark_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void fw_mark_end(void) { __asm__ volatile("nop" ::: "memory"); }

// ---- SysTick as a virtual-time clock: under `qemu -icount shift=0` every instruction advances virtual time by
// 1 ns, so the ticks of the 24-bit down-counter (processor clock, 25 MHz on this board) between two reads are a
// second, independent instruction count (1 tick = 40 instructions) to cross-check the execution log with.

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)

void fw_systick_start(void) {
  SYST_RVR = 0x00FFFFFF;
  SYST_CVR = 0;
  SYST_CSR = 5;  // enable, processor clock, no interrupt
}

uint32_t fw_systick_read(void) { return SYST_CVR; }

// ---- reset and faults

static void fault(const char *what) {
  const char *s = what;
  int n = 0;
  while (s[n]) n++;
  fw_write((const uint8_t *)"\nfault: ", 8);
  fw_write((const uint8_t *)s, n);
  fw_write((const uint8_t *)"\n", 1);
  fw_exit(3);
}

void HardFault_Handler(void) { fault("HardFault"); }
void MemManage_Handler(void) { fault("MemManage"); }
void BusFault_Handler(void) { fault("BusFault"); }
void UsageFault_Handler(void) { fault("UsageFault"); }
void Default_Handler(void) { fault("unexpected interrupt"); }

__attribute__((noreturn)) void Reset_Handler(void) {
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88;
  *cpacr |= 0xFu << 20;  // CP10, CP11: full access (the FPU)
  __asm__ volatile("dsb\n isb" ::: "memory");
  for (uint32_t *src = __data_source, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t *p = __bss_start; p < __bss_end; p++) *p = 0;
  _set_tls(__tls_base);
  // Paint the stack below the current frame (this function's few words sit at the very top).
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
  fw_exit(main(0, 0));
}

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) const vector vectors[16 + 32] = {
    (vector)__stack_top, Reset_Handler, Default_Handler /* NMI */, HardFault_Handler, MemManage_Handler,
    BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0, Default_Handler /* SVC */, Default_Handler, 0,
    Default_Handler /* PendSV */, Default_Handler /* SysTick */,
    // external interrupts: none are enabled
    [16 ... 47] = Default_Handler,
};
