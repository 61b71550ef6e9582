/* SPDX-License-Identifier: MIT */
/* Helpers for layers that take a struct iommusim_ctx (which may be NULL). */
#ifndef IMS_CTX_INT_H
#define IMS_CTX_INT_H

#include <stddef.h>
#include <stdint.h>

#include <iommusim/ctx.h>

static inline uint64_t
ims_ctx_now(const struct iommusim_ctx *ctx)
{
	return ctx && ctx->ops && ctx->ops->now_ns ? ctx->ops->now_ns(ctx->priv) : 0;
}

static inline void
ims_ctx_delay_ns(const struct iommusim_ctx *ctx, uint64_t ns)
{
	if (ctx && ctx->ops && ctx->ops->delay_ns)
		ctx->ops->delay_ns(ctx->priv, ns);
}

static inline unsigned
ims_ctx_cpu(const struct iommusim_ctx *ctx)
{
	return ctx ? ctx->cpu : 0;
}

#endif /* IMS_CTX_INT_H */
