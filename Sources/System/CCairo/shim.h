#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
// Cairo finds fonts through fontconfig; asking fontconfig directly tells whether "DejaVu Sans" is the
// face actually used or a substitute.
#include <fontconfig/fontconfig.h>
