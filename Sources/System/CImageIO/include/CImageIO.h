#ifndef CIMAGEIO_H
#define CIMAGEIO_H
// Filled in by the Imaging work: libpng/libjpeg decode wrappers that turn longjmp errors into return codes.
int cimageio_version(void);
#endif
