// SPDX-License-Identifier: MIT
/* A small printf engine: integers, strings and pointers, no floating point. */
#include <lib/format.h>

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int prec;   /* -1: none */
	int length; /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

struct out {
	format_sink_fn sink;
	void *ctx;
	int count;
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (n) {
		o->sink(o->ctx, s, n);
		o->count += (int)n;
	}
}

static void pad(struct out *o, char c, int n)
{
	char buf[16];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = c;
	while (n > 0) {
		int k = n < (int)sizeof(buf) ? n : (int)sizeof(buf);

		emit(o, buf, (size_t)k);
		n -= k;
	}
}

/* Writes v in the given base backwards into the end of buf; returns the start. */
static char *utoa(char *end, u64 v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

static void put_number(struct out *o, const struct spec *sp, u64 v, bool neg, unsigned base,
		       bool upper)
{
	char buf[24], *end = buf + sizeof(buf);
	char *s = (v == 0 && sp->prec == 0) ? end : utoa(end, v, base, upper);
	int digits = (int)(end - s);
	const char *prefix = "";
	int zeros = sp->prec > digits ? sp->prec - digits : 0;
	int plen, total;

	if (neg)
		prefix = "-";
	else if (sp->plus && base == 10)
		prefix = "+";
	else if (sp->space && base == 10)
		prefix = " ";
	else if (sp->alt && base == 16 && v)
		prefix = upper ? "0X" : "0x";
	else if (sp->alt && base == 8 && !zeros && (v || !digits))
		prefix = "0";
	plen = 0;
	while (prefix[plen])
		plen++;
	total = plen + zeros + digits;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		pad(o, ' ', sp->width - total);
	emit(o, prefix, (size_t)plen);
	pad(o, '0', zeros);
	emit(o, s, (size_t)digits);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
	int n = 0;

	if (!s)
		s = "(null)";
	while ((sp->prec < 0 || n < sp->prec) && s[n])
		n++;
	if (!sp->left)
		pad(o, ' ', sp->width - n);
	emit(o, s, (size_t)n);
	if (sp->left)
		pad(o, ' ', sp->width - n);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			if (sp->prec < 0)
				sp->prec = -1;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->prec = sp->prec * 10 + (*f++ - '0');
	}
	for (;; f++) {
		if (*f == 'l')
			sp->length = sp->length >= 1 ? 2 : 1;
		else if (*f == 'h')
			sp->length = sp->length < 0 ? -2 : -1;
		else if (*f == 'z' || *f == 't' || *f == 'j')
			sp->length = 3;
		else
			break;
	}
	return f;
}

static u64 get_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 1:
		return va_arg(*ap, unsigned long);
	case 2:
		return va_arg(*ap, unsigned long long);
	case 3:
		return va_arg(*ap, size_t);
	case -1:
		return (unsigned short)va_arg(*ap, unsigned int);
	case -2:
		return (unsigned char)va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static s64 get_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 1:
		return va_arg(*ap, long);
	case 2:
		return va_arg(*ap, long long);
	case 3:
		return (s64)va_arg(*ap, size_t);
	case -1:
		return (short)va_arg(*ap, int);
	case -2:
		return (signed char)va_arg(*ap, int);
	default:
		return va_arg(*ap, int);
	}
}

static void put_conversion(struct out *o, struct spec *sp, char c, va_list *ap)
{
	s64 sv;
	char ch;

	switch (c) {
	case 'd':
	case 'i':
		sv = get_signed(sp, ap);
		put_number(o, sp, sv < 0 ? -(u64)sv : (u64)sv, sv < 0, 10, false);
		break;
	case 'u':
		put_number(o, sp, get_unsigned(sp, ap), false, 10, false);
		break;
	case 'x':
	case 'X':
		put_number(o, sp, get_unsigned(sp, ap), false, 16, c == 'X');
		break;
	case 'o':
		put_number(o, sp, get_unsigned(sp, ap), false, 8, false);
		break;
	case 'p':
		sp->alt = true;
		put_number(o, sp, (u64)(uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 's':
		put_string(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		ch = (char)va_arg(*ap, int);
		if (!sp->left)
			pad(o, ' ', sp->width - 1);
		emit(o, &ch, 1);
		if (sp->left)
			pad(o, ' ', sp->width - 1);
		break;
	case '%':
		emit(o, "%", 1);
		break;
	default: /* unknown conversion: print it as is */
		emit(o, "%", 1);
		emit(o, &c, 1);
		break;
	}
}

int format_cb(format_sink_fn sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { sink, ctx, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		const char *p = fmt;

		while (*p && *p != '%')
			p++;
		emit(&o, fmt, (size_t)(p - fmt));
		if (!*p)
			break;
		p = parse_spec(p + 1, &sp, &aq);
		if (!*p)
			break;
		put_conversion(&o, &sp, *p, &aq);
		fmt = p + 1;
	}
	va_end(aq);
	return o.count;
}

struct bufsink {
	char *buf;
	size_t size, pos;
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
	struct bufsink *b = ctx;

	for (size_t i = 0; i < n; i++, b->pos++)
		if (b->pos + 1 < b->size)
			b->buf[b->pos] = s[i];
}

int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct bufsink b = { buf, size, 0 };
	int n = format_cb(buf_sink, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = 0;
	return n;
}

int format_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
