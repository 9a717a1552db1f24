// PNG/JPEG codecs over libpng and libjpeg(-turbo), with the pixel conversions Pillow applies when an
// image is opened and converted with `convert('RGB')`. All longjmp-based error paths stay in this file.
#include "CImageIO.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>

static void set_message(char *message, size_t message_size, const char *format, ...) {
    if (message == NULL || message_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(message, message_size, format, args);
    va_end(args);
}

static int check_dimensions(int64_t width, int64_t height, int64_t max_side, int64_t max_pixels,
                            char *message, size_t message_size) {
    if (width <= 0 || height <= 0) {
        set_message(message, message_size, "invalid image dimensions %lldx%lld", (long long)width, (long long)height);
        return CIMAGEIO_ERR_CORRUPT;
    }
    if (width > max_side || height > max_side || width * height > max_pixels) {
        set_message(message, message_size,
                    "image declares %lldx%lld pixels, over the limit of %lld per side and %lld pixels in total",
                    (long long)width, (long long)height, (long long)max_side, (long long)max_pixels);
        return CIMAGEIO_ERR_TOO_LARGE;
    }
    return CIMAGEIO_OK;
}

void cimageio_image_free(cimageio_image *image) {
    if (image == NULL) return;
    free(image->rgb);
    free(image->indices);
    free(image->alpha);
    image->rgb = NULL;
    image->indices = NULL;
    image->alpha = NULL;
}

void cimageio_buffer_free(uint8_t *buffer) { free(buffer); }

// MARK: - PNG decoding

typedef struct {
    jmp_buf jump;
    char *message;
    size_t message_size;
    int code;
    const uint8_t *data;
    size_t size;
    size_t position;
} png_context;

static void png_fail(png_structp png, png_const_charp text) {
    png_context *ctx = (png_context *)png_get_error_ptr(png);
    set_message(ctx->message, ctx->message_size, "%s", text);
    longjmp(ctx->jump, 1);
}

// Pillow ignores ancillary-chunk problems, so warnings are dropped rather than surfaced.
static void png_ignore_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void png_read_memory(png_structp png, png_bytep out, png_size_t count) {
    png_context *ctx = (png_context *)png_get_io_ptr(png);
    if (count > ctx->size - ctx->position) {
        png_error(png, "unexpected end of data (the file is truncated)");
    }
    memcpy(out, ctx->data + ctx->position, count);
    ctx->position += count;
}

static uint32_t read_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

// One decoded row (after png_set_packing, so sub-byte samples are one byte each) to RGB, following
// Pillow's PNG modes and its convert('RGB'): 16-bit colour keeps the high byte, 16-bit gray ("I;16")
// saturates at 255, alpha is dropped (not composited), low-depth gray is scaled by bit replication.
static void png_row_to_rgb(const uint8_t *src, uint8_t *dst, int width, int color_type, int depth,
                           const png_color *palette, int palette_count) {
    int x;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        for (x = 0; x < width; x++) {
            uint8_t v;
            if (depth == 16) {
                v = src[2 * x] != 0 ? 255 : src[2 * x + 1];
            } else if (depth == 8) {
                v = src[x];
            } else if (depth == 4) {
                v = (uint8_t)(src[x] * 0x11);
            } else if (depth == 2) {
                v = (uint8_t)(src[x] * 0x55);
            } else {
                v = src[x] ? 255 : 0;
            }
            dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = v;
        }
        break;
    case PNG_COLOR_TYPE_RGB:
        if (depth == 16) {
            for (x = 0; x < width; x++) {
                dst[3 * x] = src[6 * x];
                dst[3 * x + 1] = src[6 * x + 2];
                dst[3 * x + 2] = src[6 * x + 4];
            }
        } else {
            memcpy(dst, src, (size_t)width * 3);
        }
        break;
    case PNG_COLOR_TYPE_PALETTE:
        // Pillow's palette starts zeroed, so indices past the PLTE entries read as black.
        for (x = 0; x < width; x++) {
            int i = src[x];
            if (i < palette_count) {
                dst[3 * x] = palette[i].red;
                dst[3 * x + 1] = palette[i].green;
                dst[3 * x + 2] = palette[i].blue;
            } else {
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = 0;
            }
        }
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: {
        int step = depth == 16 ? 4 : 2;
        for (x = 0; x < width; x++) {
            dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[step * x];
        }
        break;
    }
    case PNG_COLOR_TYPE_RGB_ALPHA: {
        int step = depth == 16 ? 8 : 4;
        int sample = depth == 16 ? 2 : 1;
        for (x = 0; x < width; x++) {
            dst[3 * x] = src[step * x];
            dst[3 * x + 1] = src[step * x + sample];
            dst[3 * x + 2] = src[step * x + 2 * sample];
        }
        break;
    }
    default:
        break;
    }
}

// The alpha sample of each pixel (high byte when 16-bit), kept for code that resizes unconverted
// RGBA/LA images, where PIL premultiplies.
static void png_row_alpha(const uint8_t *src, uint8_t *dst, int width, int color_type, int depth) {
    int bytes = depth == 16 ? 2 : 1;
    int samples = color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 2;
    for (int x = 0; x < width; x++) dst[x] = src[(x * samples + samples - 1) * bytes];
}

static int png_source_mode(int color_type, int depth) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        return depth == 1 ? CIMAGEIO_MODE_1 : (depth == 16 ? CIMAGEIO_MODE_I16 : CIMAGEIO_MODE_L);
    case PNG_COLOR_TYPE_RGB: return CIMAGEIO_MODE_RGB;
    case PNG_COLOR_TYPE_PALETTE: return CIMAGEIO_MODE_P;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return depth == 16 ? CIMAGEIO_MODE_RGBA : CIMAGEIO_MODE_LA;
    default: return CIMAGEIO_MODE_RGBA;
    }
}

int cimageio_decode_png(const uint8_t *data, size_t size, int64_t max_side, int64_t max_pixels,
                        cimageio_image *out, char *message, size_t message_size) {
    if (out == NULL || data == NULL) return CIMAGEIO_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(message, message_size, "not a PNG file (bad signature)");
        return CIMAGEIO_ERR_CORRUPT;
    }
    // Check the declared size from the raw IHDR first, so even a file cut right after its header
    // reports "too large" rather than "truncated".
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        int status = check_dimensions(read_be32(data + 16), read_be32(data + 20), max_side, max_pixels,
                                      message, message_size);
        if (status != CIMAGEIO_OK) return status;
    }

    png_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.message = message;
    ctx.message_size = message_size;
    ctx.code = CIMAGEIO_ERR_CORRUPT;
    ctx.data = data;
    ctx.size = size;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_ignore_warning);
    if (png == NULL) {
        set_message(message, message_size, "out of memory creating the PNG reader");
        return CIMAGEIO_ERR_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(message, message_size, "out of memory creating the PNG reader");
        return CIMAGEIO_ERR_MEMORY;
    }
    // Locals written after setjmp must be volatile to survive the longjmp back.
    uint8_t *volatile raw = NULL;
    uint8_t *volatile rgb = NULL;
    uint8_t *volatile indices = NULL;
    uint8_t *volatile alpha = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(ctx.jump)) {
        free(raw);
        free(rgb);
        free(indices);
        free(alpha);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return ctx.code;
    }
    png_set_read_fn(png, &ctx, png_read_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_benign_errors(png, 1);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &color_type, &interlace, NULL, NULL);
    int status = check_dimensions(width, height, max_side, max_pixels, message, message_size);
    if (status != CIMAGEIO_OK) {
        ctx.code = status;
        longjmp(ctx.jump, 1);
    }
    png_colorp palette = NULL;
    int palette_count = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_get_PLTE(png, info, &palette, &palette_count);
    }
    out->has_transparency = png_get_valid(png, info, PNG_INFO_tRNS) ? 1 : 0;
    if (depth < 8) png_set_packing(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);

    rgb = (uint8_t *)malloc((size_t)width * height * 3);
    if (color_type == PNG_COLOR_TYPE_PALETTE) indices = (uint8_t *)malloc((size_t)width * height);
    int has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0;
    if (has_alpha) alpha = (uint8_t *)malloc((size_t)width * height);
    if (rgb == NULL || (color_type == PNG_COLOR_TYPE_PALETTE && indices == NULL) || (has_alpha && alpha == NULL)) {
        ctx.code = CIMAGEIO_ERR_MEMORY;
        png_error(png, "out of memory for the decoded image");
    }
    if (interlace != PNG_INTERLACE_NONE) {
        // Adam7 needs every pass before any row is final, so the whole raw image is held.
        raw = (uint8_t *)malloc(row_bytes * height);
        rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
        if (raw == NULL || rows == NULL) {
            ctx.code = CIMAGEIO_ERR_MEMORY;
            png_error(png, "out of memory for the interlaced image");
        }
        for (png_uint_32 y = 0; y < height; y++) rows[y] = raw + row_bytes * y;
        png_read_image(png, rows);
        for (png_uint_32 y = 0; y < height; y++) {
            png_row_to_rgb(rows[y], rgb + (size_t)y * width * 3, (int)width, color_type, depth, palette, palette_count);
            if (indices != NULL) memcpy(indices + (size_t)y * width, rows[y], width);
            if (alpha != NULL) png_row_alpha(rows[y], alpha + (size_t)y * width, (int)width, color_type, depth);
        }
    } else {
        raw = (uint8_t *)malloc(row_bytes);
        if (raw == NULL) {
            ctx.code = CIMAGEIO_ERR_MEMORY;
            png_error(png, "out of memory for a row");
        }
        for (png_uint_32 y = 0; y < height; y++) {
            png_read_row(png, raw, NULL);
            png_row_to_rgb(raw, rgb + (size_t)y * width * 3, (int)width, color_type, depth, palette, palette_count);
            if (indices != NULL) memcpy(indices + (size_t)y * width, raw, width);
            if (alpha != NULL) png_row_alpha(raw, alpha + (size_t)y * width, (int)width, color_type, depth);
        }
    }
    out->width = (int32_t)width;
    out->height = (int32_t)height;
    out->source_mode = png_source_mode(color_type, depth);
    out->rgb = rgb;
    out->indices = indices;
    out->alpha = alpha;
    free(raw);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return CIMAGEIO_OK;
}

// MARK: - JPEG decoding

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
    size_t message_size;
    int code;
} jpeg_context;

static void jpeg_fail(j_common_ptr cinfo) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_message(ctx->message, ctx->message_size, "%s", text);
    longjmp(ctx->jump, 1);
}

// Pillow tolerates libjpeg warnings (corrupt-data recoveries), so they are neither printed nor fatal.
static void jpeg_quiet_message(j_common_ptr cinfo, int level) {
    (void)cinfo;
    (void)level;
}

static void jpeg_quiet_output(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_source_init(j_decompress_ptr cinfo) { (void)cinfo; }
static void jpeg_source_term(j_decompress_ptr cinfo) { (void)cinfo; }

// The whole file is already in the buffer, so a refill request means the data ran out. libjpeg's own
// memory source would fake an EOI and return gray pixels; Pillow reports a truncated file instead.
static boolean jpeg_source_fill(j_decompress_ptr cinfo) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    set_message(ctx->message, ctx->message_size, "unexpected end of data (the file is truncated)");
    longjmp(ctx->jump, 1);
    return FALSE;
}

static void jpeg_source_skip(j_decompress_ptr cinfo, long count) {
    if (count <= 0) return;
    if ((size_t)count > cinfo->src->bytes_in_buffer) jpeg_source_fill(cinfo);
    cinfo->src->next_input_byte += count;
    cinfo->src->bytes_in_buffer -= (size_t)count;
}

int cimageio_decode_jpeg(const uint8_t *data, size_t size, int64_t max_side, int64_t max_pixels,
                         cimageio_image *out, char *message, size_t message_size) {
    if (out == NULL || data == NULL) return CIMAGEIO_ERR_ARGUMENT;
    memset(out, 0, sizeof(*out));
    struct jpeg_decompress_struct cinfo;
    struct jpeg_source_mgr source;
    jpeg_context ctx;
    memset(&cinfo, 0, sizeof(cinfo));
    memset(&ctx, 0, sizeof(ctx));
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_fail;
    ctx.pub.emit_message = jpeg_quiet_message;
    ctx.pub.output_message = jpeg_quiet_output;
    ctx.message = message;
    ctx.message_size = message_size;
    ctx.code = CIMAGEIO_ERR_CORRUPT;

    uint8_t *volatile rgb = NULL;
    uint8_t *volatile row = NULL;
    if (setjmp(ctx.jump)) {
        free(rgb);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return ctx.code;
    }
    jpeg_create_decompress(&cinfo);
    source.next_input_byte = data;
    source.bytes_in_buffer = size;
    source.init_source = jpeg_source_init;
    source.fill_input_buffer = jpeg_source_fill;
    source.skip_input_data = jpeg_source_skip;
    source.resync_to_restart = jpeg_resync_to_restart;
    source.term_source = jpeg_source_term;
    cinfo.src = &source;

    jpeg_read_header(&cinfo, TRUE);
    int status = check_dimensions(cinfo.image_width, cinfo.image_height, max_side, max_pixels, message, message_size);
    if (status != CIMAGEIO_OK) {
        ctx.code = status;
        longjmp(ctx.jump, 1);
    }
    int components = cinfo.num_components;
    int mode;
    switch (components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; mode = CIMAGEIO_MODE_L; break;
    case 3: cinfo.out_color_space = JCS_RGB; mode = CIMAGEIO_MODE_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; mode = CIMAGEIO_MODE_CMYK; break;
    default:
        ctx.code = CIMAGEIO_ERR_UNSUPPORTED;
        set_message(message, message_size, "cannot handle %d-component JPEG images", components);
        longjmp(ctx.jump, 1);
    }
    // Defaults are what Pillow uses outside draft mode; set explicitly so a library default change
    // cannot silently alter pixels.
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);

    size_t width = cinfo.output_width, height = cinfo.output_height;
    int channels = cinfo.output_components;
    rgb = (uint8_t *)malloc(width * height * 3);
    row = (uint8_t *)malloc(width * (size_t)channels);
    if (rgb == NULL || row == NULL) {
        ctx.code = CIMAGEIO_ERR_MEMORY;
        set_message(message, message_size, "out of memory for the decoded image");
        longjmp(ctx.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            set_message(message, message_size, "decoder returned no data at row %zu", y);
            longjmp(ctx.jump, 1);
        }
        uint8_t *dst = rgb + y * width * 3;
        if (channels == 3) {
            memcpy(dst, row, width * 3);
        } else if (channels == 1) {
            for (size_t x = 0; x < width; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else {
            // Pillow reads CMYK with Adobe polarity ("CMYK;I": every sample inverted), then its
            // cmyk2rgb computes nk - round(c * nk / 255) with nk = 255 - k.
            for (size_t x = 0; x < width; x++) {
                const uint8_t *s = row + 4 * x;
                int nk = s[3];  // 255 - (255 - stored k)
                for (int c = 0; c < 3; c++) {
                    int cyan = 255 - s[c];
                    int t = cyan * nk + 128;
                    int v = nk - (((t >> 8) + t) >> 8);
                    dst[3 * x + c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
                }
            }
        }
    }
    out->width = (int32_t)width;
    out->height = (int32_t)height;
    out->source_mode = mode;
    out->rgb = rgb;
    free(row);
    // Trailing data after the last scanline is not needed; abort instead of finish so a missing EOI
    // marker after complete image data is not an error (Pillow stops reading there too).
    jpeg_destroy_decompress(&cinfo);
    return CIMAGEIO_OK;
}

// MARK: - PNG encoding

typedef struct {
    jmp_buf jump;
    char *message;
    size_t message_size;
    uint8_t *buffer;
    size_t size;
    size_t capacity;
} png_writer;

static void png_write_fail(png_structp png, png_const_charp text) {
    png_writer *w = (png_writer *)png_get_error_ptr(png);
    set_message(w->message, w->message_size, "%s", text);
    longjmp(w->jump, 1);
}

static void png_write_memory(png_structp png, png_bytep bytes, png_size_t count) {
    png_writer *w = (png_writer *)png_get_io_ptr(png);
    if (count > w->capacity - w->size) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (count > capacity - w->size) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(w->buffer, capacity);
        if (grown == NULL) png_error(png, "out of memory while encoding PNG");
        w->buffer = grown;
        w->capacity = capacity;
    }
    memcpy(w->buffer + w->size, bytes, count);
    w->size += count;
}

static void png_flush_memory(png_structp png) { (void)png; }

int cimageio_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                        uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    if (pixels == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0 ||
        (channels != 3 && channels != 4)) {
        set_message(message, message_size, "invalid PNG encode arguments (%dx%d, %d channels)", width, height, channels);
        return CIMAGEIO_ERR_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    png_writer writer;
    memset(&writer, 0, sizeof(writer));
    writer.message = message;
    writer.message_size = message_size;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, png_write_fail, png_ignore_warning);
    if (png == NULL) return CIMAGEIO_ERR_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        return CIMAGEIO_ERR_MEMORY;
    }
    if (setjmp(writer.jump)) {
        free(writer.buffer);
        png_destroy_write_struct(&png, &info);
        return CIMAGEIO_ERR_CORRUPT;
    }
    png_set_write_fn(png, &writer, png_write_memory, png_flush_memory);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + stride * (size_t)y));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = writer.buffer;
    *out_size = writer.size;
    return CIMAGEIO_OK;
}

// MARK: - JPEG encoding

int cimageio_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                         int32_t quality, uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    if (pixels == NULL || out == NULL || out_size == NULL || width <= 0 || height <= 0 || width > 65500 ||
        height > 65500 || (channels != 1 && channels != 3 && channels != 4) || quality < 1 || quality > 100) {
        set_message(message, message_size, "invalid JPEG encode arguments (%dx%d, %d channels, quality %d)",
                    width, height, channels, quality);
        return CIMAGEIO_ERR_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    struct jpeg_compress_struct cinfo;
    jpeg_context ctx;
    memset(&cinfo, 0, sizeof(cinfo));
    memset(&ctx, 0, sizeof(ctx));
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_fail;
    ctx.pub.emit_message = jpeg_quiet_message;
    ctx.pub.output_message = jpeg_quiet_output;
    ctx.message = message;
    ctx.message_size = message_size;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return CIMAGEIO_ERR_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : (channels == 3 ? JCS_RGB : JCS_CMYK);
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = buffer_size;
    return CIMAGEIO_OK;
}
