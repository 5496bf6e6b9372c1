/* Lets the bare-metal compute kernels (guests/baremetal/kernels) build
 * as process-mode code: their kernels.h includes "rt.h" for the basic types
 * and string functions, which picolibc provides here. build.sh puts this
 * directory on the include path instead of guests/baremetal/rt. */
#ifndef RT_H
#define RT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#endif
