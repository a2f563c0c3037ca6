// libsoxr (Debian's libsoxr-dev): the SoX resampler.
#include <soxr.h>

// soxr's spec constructors are functions, but their type and quality macros are not
// importable as constants: typed wrappers for the one conversion ttfa needs.
static inline soxr_io_spec_t ttfa_soxr_float_io(void) { return soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I); }
static inline soxr_quality_spec_t ttfa_soxr_high_quality(void) { return soxr_quality_spec(SOXR_HQ, 0); }
