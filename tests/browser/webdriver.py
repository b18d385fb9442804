#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A real browser for test-page.c: Debian's chromium, headless, driven over WebDriver (chromium-driver,
# python3-selenium). It only does what it is told, one command a line on stdin, and answers each with one
# line on stdout: "ok [VALUE]" or "error WHY". The test makes every assertion itself.
#
#   get URL                 load a page
#   text CSS                the text of the first element CSS matches ("none" where none does)
#   attr CSS NAME           an attribute of it ("none" where it has none)
#   count CSS               how many elements match
#   style CSS PROPERTY      the computed value of a CSS property of the first element CSS matches
#   rect CSS                where it is: "X Y WIDTH HEIGHT", in pixels
#   size WIDTH HEIGHT       the window's size
#   screenshot PATH         a PNG of the window, its size in bytes
#   log                     the console's errors since the last time, joined by " | "
#   quit
import sys

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def start(dark):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions", "--disable-background-networking",
              "--window-size=1200,800"):
        options.add_argument(a)
    if dark:
        options.add_argument("--force-dark-mode")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(10)
    driver.set_script_timeout(10)
    return driver


def first(driver, css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def answer(driver, words):
    command, args = words[0], words[1:]
    if command == "get":
        driver.get(args[0])
        return ""
    if command == "text":
        e = first(driver, " ".join(args))
        return "none" if e is None else e.text.replace("\n", " ")
    if command == "attr":
        e = first(driver, " ".join(args[:-1]))
        value = None if e is None else e.get_attribute(args[-1])
        return "none" if value is None else value
    if command == "count":
        return str(len(driver.find_elements(By.CSS_SELECTOR, " ".join(args))))
    if command == "style":
        e = first(driver, " ".join(args[:-1]))
        return "none" if e is None else e.value_of_css_property(args[-1])
    if command == "rect":
        e = first(driver, " ".join(args))
        if e is None:
            return "none"
        r = e.rect
        return "%d %d %d %d" % (r["x"], r["y"], r["width"], r["height"])
    if command == "size":
        driver.set_window_size(int(args[0]), int(args[1]))
        return ""
    if command == "screenshot":
        png = driver.get_screenshot_as_png()
        with open(args[0], "wb") as f:
            f.write(png)
        return str(len(png))
    if command == "log":
        return " | ".join(e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE")
    raise ValueError("unknown command " + command)


def main():
    driver = start("--dark" in sys.argv)
    print("ok ready", flush=True)
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            try:
                print(("ok " + answer(driver, words)).rstrip(), flush=True)
            except (WebDriverException, ValueError, IndexError, OSError) as e:
                print("error " + str(e).splitlines()[0] if str(e) else "error " + type(e).__name__, flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
