/* Roam guest SDK: stdin, stdout and stderr for picolibc's tinystdio.
 *
 * picolibc leaves the three standard streams to the program. This build of
 * picolibc (1.8, POSIX_IO) has "bufio" streams, the ones fopen/fdopen make:
 * a buffer over read/write/lseek/close of a file descriptor. We make the
 * standard streams the same way, over fds 0, 1 and 2, with static buffers:
 *
 *   stdin   4 KiB read buffer. Whenever it needs more input, bufio first
 *           flushes stdout (so a prompt shows before the program blocks).
 *   stdout  4 KiB; line buffered when fd 1 is a terminal (isatty, i.e.
 *           ioctl TCGETS succeeds), fully buffered otherwise - as glibc.
 *   stderr  1 KiB, always line buffered (glibc's is unbuffered; one write
 *           per line is the closest that bufio does without a write per
 *           byte).
 *
 * exit() flushes stdout, then stderr (a destructor); _exit() does not.
 * A program whose progress must show up through a pipe calls fflush(stdout).
 */
#include <stdio.h>
#include <stdio-bufio.h>
#include <unistd.h>

#define IN_SIZE 4096
#define OUT_SIZE 4096
#define ERR_SIZE 1024

static char in_buf[IN_SIZE];
static char out_buf[OUT_SIZE];
static char err_buf[ERR_SIZE];

static struct __file_bufio roam_stdin =
    FDEV_SETUP_BUFIO(0, in_buf, IN_SIZE, read, write, lseek, close, __SRD, 0);
static struct __file_bufio roam_stdout =
    FDEV_SETUP_BUFIO(1, out_buf, OUT_SIZE, read, write, lseek, close, __SWR, 0);
static struct __file_bufio roam_stderr =
    FDEV_SETUP_BUFIO(2, err_buf, ERR_SIZE, read, write, lseek, close, __SWR, __BLBF);

FILE *const stdin = &roam_stdin.xfile.cfile.file;
FILE *const stdout = &roam_stdout.xfile.cfile.file;
FILE *const stderr = &roam_stderr.xfile.cfile.file;

__attribute__((constructor)) static void roam_stdio_init(void)
{
    if (isatty(1))
        roam_stdout.bflags |= __BLBF;
}

__attribute__((destructor)) static void roam_stdio_fini(void)
{
    fflush(stdout);
    fflush(stderr);
}
