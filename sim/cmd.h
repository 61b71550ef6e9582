/* SPDX-License-Identifier: MIT */
/* The iommusim subcommands: each takes its own argv (argv[0] is its name). */
#ifndef IOMMUSIM_CMD_H
#define IOMMUSIM_CMD_H

#include <stdbool.h>

int cmd_demo(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_script(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* True if argv has -h or --help (before a "--"). */
bool cmd_help_requested(int argc, char **argv);

#endif /* IOMMUSIM_CMD_H */
