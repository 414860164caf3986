/* SPDX-License-Identifier: MIT */
/* A 16550 UART for a VM: what the guest writes goes to a sink, what it reads comes from a queue. */
#ifndef KEEL_VUART_H
#define KEEL_VUART_H

#include <lib/types.h>

struct vm;
struct vuart;

/* Called with each byte the guest transmits. */
typedef void (*vuart_sink_fn)(struct vuart *u, void *ctx, u8 byte);

/* The UART is freed with its VM. */
struct vuart *vuart_create(struct vm *vm, u16 port, u8 irq, vuart_sink_fn sink, void *ctx);
struct vm *vuart_vm(struct vuart *u);
/* Queues a byte for the guest to read; false if the receive buffer is full. */
bool vuart_receive(struct vuart *u, u8 byte);
/* The sink that prints whole lines into the hypervisor log as "<vm>: line". */
void vuart_sink_log(struct vuart *u, void *ctx, u8 byte);
/* The sink that passes bytes straight to the physical serial port (the service VM's console). */
void vuart_sink_serial(struct vuart *u, void *ctx, u8 byte);

#endif
