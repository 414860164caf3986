/* SPDX-License-Identifier: MIT */
/* A small AML writer for the guest DSDT (ACPI 6.5 chapter 20; resource descriptors 6.4). */
#ifndef KEEL_AML_H
#define KEEL_AML_H

#include <lib/types.h>

#define AML_MAX_DEPTH 8

/* AML as ACPI 6.5 chapter 20 encodes it (the writer's, and the S5 scan's in drivers/acpi_s5.c). */
/* ACPI 6.5 20.2.2 name encodings */
#define AML_ROOT_CHAR 0x5c     /* '\\' */
#define AML_PARENT_PREFIX 0x5e /* '^' */
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_NAME_SEG_LEN 4
/* ACPI 6.5 20.2.3 data objects */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
/* ACPI 6.5 20.2.5 term objects */
#define AML_NAME_OP 0x08    /* 20.2.5.1 */
#define AML_SCOPE_OP 0x10   /* 20.2.5.1 */
#define AML_BUFFER_OP 0x11  /* 20.2.5.4 */
#define AML_PACKAGE_OP 0x12 /* 20.2.5.4 */
#define AML_METHOD_OP 0x14  /* 20.2.5.2 */
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after ExtOpPrefix, 20.2.5.2 */
#define AML_ARG0_OP 0x68   /* 20.2.6.1: Arg0..Arg6 are 0x68..0x6e */
#define AML_MAX_ARG 6
#define AML_NOTIFY_OP 0x86	      /* 20.2.5.3 */
#define AML_LEQUAL_OP 0x93	      /* 20.2.5.4 */
#define AML_IF_OP 0xa0		      /* 20.2.5.3 */
#define AML_METHOD_ARGS GENMASK(2, 0) /* 20.2.5.2 MethodFlags bits 2:0 */
/* ACPI 6.5 20.2.4 PkgLength: one byte holds 0-63; else bits 7:6 count 1-3 more bytes */
#define AML_PKGLEN_1BYTE_MAX 0x3f
#define AML_PKGLEN_MAX (1u << 28)
#define AML_PKGLEN_EXTRA_SHIFT 6

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
