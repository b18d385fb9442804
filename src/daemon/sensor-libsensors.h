/* SPDX-License-Identifier: MIT */
#pragma once

#include "sensor.h"

/* Reads sensors.conf and finds the chips again, as sensors(1) does when it starts: at start and at each
 * rescan, before the sensors are looked for. Returns how many statements did not parse (each logged with
 * its file and line, and skipped, the rest honoured, as sensors does); -EBUSY, with what was read before
 * kept, while a slow sensor is read; -EIO when libsensors cannot start at all (no sysfs, a file it cannot
 * read), with its words in error, and no chip known to it until a rescan. */
int libsensors_load(char error[static SENSOR_ERROR_MAX]);

/* What sensors.conf says of an hwmon input (chip_dir: /sys/class/hwmon/hwmon<N>, where the chip of driver
 * we call chip is; input: temp<M>): 1 and its label (NULL where it has none but its name) and limits,
 * computed; 0 when sensors.conf ignores it; -ENOENT when libsensors knows no such chip there (none loaded,
 * a fake tree elsewhere than /sys, another chip). */
int libsensors_input(const char *chip_dir, const char *driver, const char *chip, const char *input,
                char **ret_label, Limits *ret_limits);

/* A sensor that reads the hwmon input through libsensors, its compute applied; its file (path) as it is
 * while libsensors knows no such chip. */
int sensor_libsensors_new(const char *chip_dir, const char *driver, const char *chip, const char *input,
                const char *path, const char *name, const char *source, const char *label, bool slow, Sensor **ret);
