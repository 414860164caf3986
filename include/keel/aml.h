/* SPDX-License-Identifier: MIT */
/* A small AML writer for the guest DSDT (ACPI 6.5 chapter 20; resource descriptors 6.4). */
#ifndef KEEL_AML_H
#define KEEL_AML_H

#include <lib/types.h>

#define AML_MAX_DEPTH 8

/*
 * Objects that carry a PkgLength (Scope, Device, Method, If, Package, and
 * the Buffer of a resource template) are opened, filled and closed. The
 * PkgLength takes 1 to 4 bytes depending on what follows it, so
 * aml_close() moves the contents up to make room for it (and, for a
 * Buffer, for its BufferSize).
 *
 * Errors stick: after the first one nothing more is written, and
 * aml_finish() reports it, so builders need no check per call.
 */
struct aml {
	u8 *buf;
	u32 size;
	u32 len;
	int err; /* 0, -ENOSPC, or -EINVAL for a bad name or unbalanced open/close */
	u32 depth;
	u32 open_at[AML_MAX_DEPTH];	 /* where each open object's contents start */
	bool open_buffer[AML_MAX_DEPTH]; /* a Buffer gets its BufferSize on close */
};

void aml_init(struct aml *a, u8 *buf, u32 size);
/* Bytes written, or the first error. */
int aml_finish(struct aml *a);

/* Data objects (20.2.3): the shortest encoding of v; a NUL-ended string; EISAID("PNP0A08"). */
void aml_integer(struct aml *a, u64 v);
void aml_string(struct aml *a, const char *s);
void aml_eisa_id(struct aml *a, const char *id);
/* A NameString (20.2.2): "\\_SB.PWRB", "^PCI0", "_S5" (short segments are padded with '_'). */
void aml_name_string(struct aml *a, const char *path);
void aml_arg(struct aml *a, u8 n);

/* Name (name, <the object written next>). */
void aml_name(struct aml *a, const char *name);
/* These open an object; its contents follow, then aml_close(). */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_method(struct aml *a, const char *name, u8 nr_args); /* NotSerialized, SyncLevel 0 */
void aml_if(struct aml *a);				      /* predicate, then the body */
void aml_package(struct aml *a, u8 nr_elements);
void aml_close(struct aml *a);

/* Statements and operators: LEqual takes the two operands written next. */
void aml_lequal(struct aml *a);
void aml_notify(struct aml *a, const char *path, u8 value);

/*
 * Resource descriptors (6.4), written between aml_resource_template() and
 * aml_resource_template_end(), which adds the End Tag. Address space
 * descriptors take an inclusive [min, max] and are MinFixed, MaxFixed,
 * PosDecode; memory is NonCacheable, ReadWrite.
 */
void aml_resource_template(struct aml *a);
void aml_resource_template_end(struct aml *a);
void aml_res_word_bus_number(struct aml *a, u16 min, u16 max); /* producer */
void aml_res_word_io(struct aml *a, u16 min, u16 max);	       /* producer, EntireRange */
void aml_res_dword_memory(struct aml *a, bool producer, u32 min, u32 max);
void aml_res_qword_memory(struct aml *a, bool producer, u64 min, u64 max);
void aml_res_io(struct aml *a, u16 port, u8 len); /* IO (Decode16, port, port, 1, len) */
void aml_res_irq_no_flags(struct aml *a, u8 irq); /* ISA IRQ 0-15: edge, active high */
void aml_res_interrupt(struct aml *a, u32 gsi);	  /* consumer, edge, active high, exclusive */

#endif
