#ifndef CIMAGEIO_H
#define CIMAGEIO_H

#include <stddef.h>
#include <stdint.h>

// libpng and libjpeg report fatal errors by longjmp; these wrappers catch them in C and hand Swift a
// status code plus a message, so a corrupt file can never unwind through Swift frames.

/// Status codes returned by every decode/encode entry point.
enum {
    CIMAGEIO_OK = 0,
    CIMAGEIO_ERR_CORRUPT = 1,     // malformed or truncated data
    CIMAGEIO_ERR_TOO_LARGE = 2,   // declared dimensions exceed the caller's limits
    CIMAGEIO_ERR_UNSUPPORTED = 3, // valid file, but a layout this decoder does not handle
    CIMAGEIO_ERR_MEMORY = 4,
    CIMAGEIO_ERR_ARGUMENT = 5,
};

/// The PIL mode a file opens as (what `Image.open(f).mode` reports), before conversion to RGB.
enum {
    CIMAGEIO_MODE_1 = 1,      // 1-bit grayscale PNG
    CIMAGEIO_MODE_L = 2,      // 2/4/8-bit grayscale PNG, grayscale JPEG
    CIMAGEIO_MODE_I16 = 3,    // 16-bit grayscale PNG
    CIMAGEIO_MODE_P = 4,      // palette PNG
    CIMAGEIO_MODE_LA = 5,     // 8-bit gray+alpha PNG
    CIMAGEIO_MODE_RGB = 6,
    CIMAGEIO_MODE_RGBA = 7,   // 8/16-bit RGBA PNG and 16-bit gray+alpha PNG (PIL widens it to RGBA)
    CIMAGEIO_MODE_CMYK = 8,   // 4-component JPEG
};

/// A decoded image, already converted to 8-bit interleaved RGB the way PIL's `convert('RGB')` does.
typedef struct {
    int32_t width;
    int32_t height;
    int32_t source_mode;   // CIMAGEIO_MODE_*
    int32_t has_transparency; // tRNS chunk present (ignored by the RGB conversion, reported for callers)
    uint8_t *rgb;          // width*height*3 bytes, malloc'd; release with cimageio_image_free
    uint8_t *indices;      // palette PNGs only: width*height palette indices (else NULL)
    uint8_t *alpha;        // PNGs with an alpha channel only: width*height alpha (high byte if 16-bit)
} cimageio_image;

/// Decodes a PNG held in memory. `max_side`/`max_pixels` are checked against the header before any
/// pixel buffer is allocated. `message` receives a NUL-terminated explanation on failure.
int cimageio_decode_png(const uint8_t *data, size_t size, int64_t max_side, int64_t max_pixels,
                        cimageio_image *out, char *message, size_t message_size);

/// Decodes a baseline or progressive JPEG with libjpeg defaults (JDCT_ISLOW, fancy upsampling),
/// as Pillow's decoder does when no draft mode is requested.
int cimageio_decode_jpeg(const uint8_t *data, size_t size, int64_t max_side, int64_t max_pixels,
                         cimageio_image *out, char *message, size_t message_size);

void cimageio_image_free(cimageio_image *image);

/// Encodes 8-bit interleaved pixels (`channels` 3 = RGB, 4 = RGBA) as PNG into a malloc'd buffer.
int cimageio_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                        uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// Encodes 8-bit interleaved pixels (`channels` 1 = gray, 3 = RGB, 4 = CMYK stored as given, with an
/// Adobe marker) as JPEG into a malloc'd buffer.
int cimageio_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                         int32_t quality, uint8_t **out, size_t *out_size, char *message, size_t message_size);

void cimageio_buffer_free(uint8_t *buffer);

#endif
