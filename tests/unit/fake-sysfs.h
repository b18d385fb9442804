/* SPDX-License-Identifier: MIT */
#pragma once

/* A PC's worth of thermal zones and hwmon chips, and some, under at (a directory that is there: a
 * temporary one for THERMO_SYSFS_ROOT, or /sys itself in a mount namespace of the test's own). */
void fake_sysfs_build(const char *at);
/* A file under fake_sysfs_build()'s root, with its directories. */
void fake_sysfs_put(const char *relative, const char *content);

/* What sensor_discover() names the tree's sensors, in its order. */
#define FAKE_SYSFS_N_NAMES 11
extern const char *const fake_sysfs_names[FAKE_SYSFS_N_NAMES];
