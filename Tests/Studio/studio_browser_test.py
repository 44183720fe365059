#!/usr/bin/env python3
"""Studio in a real headless Chromium (run by scripts/studio-browser-test.sh).

Starts `sluice studio` on a copy of the shipped transformations and libraries, then, in the page:
opens Studio, picks a shipped transformation and runs its cases (all pass); introduces a syntax
error and sees the marker at its line; runs a pasted batch that splits and drops; changes the
code and sees the differences from expected.ndjson; runs a memory bomb and sees memory_limit while
the page keeps answering; publishes two versions and rolls back; sends live traffic and sees the
transformation's live chart show it; starts a shadow run of the other version and sees its report;
starts a canary rollout, promotes it and sees the live version change; runs a slice of a recording
(made with `sluice record` in the project's copy) with changed code and sees the changed events by
path. A screenshot of each step goes to --screenshots.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from playwright.sync_api import expect, sync_playwright

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRANSFORMATION = "order-to-products"
TIMEOUT = 60_000


class StudioProcess:
    """`sluice studio DIR` and the URL it prints."""

    def __init__(self, sluice, project):
        self.process = subprocess.Popen([sluice, "studio", project], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.errors = []
        threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True).start()
        deadline = time.time() + 90
        self.url = None
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("Studio: "):
                self.url = line[len("Studio: "):].strip()
                break
        if not self.url:
            self.stop()
            raise SystemExit("sluice studio did not print its URL:\n" + "".join(self.errors))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def send_traffic(base, name, count):
    """`count` events through `POST /v1/transformations/{name}/run`, as a client sends live traffic."""
    body = "\n".join(json.dumps({"type": "track", "event": "Browser Test", "messageId": f"live-{index}", "userId": f"u-{index}"})
                     for index in range(count)).encode()
    request = urllib.request.Request(f"{base.rstrip('/')}/v1/transformations/{name}/run", data=body, method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()


def send_custom_transform(base, name, count):
    """`count` events of `count` users through rudder-server's `POST /customTransform`, naming the
    transformation: the route a canary rollout splits."""
    body = json.dumps([{"message": {"type": "track", "event": "Canary", "userId": f"canary-user-{index}", "messageId": f"canary-{index}"},
                        "metadata": {"sourceId": "browser-test", "destinationId": "browser-test", "messageId": f"canary-{index}"},
                        "destination": {"Transformations": [{"VersionID": name}]}} for index in range(count)]).encode()
    request = urllib.request.Request(f"{base.rstrip('/')}/customTransform", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()


class TrafficLoop:
    """Live traffic every half second while the block runs (a shadow run compares live batches)."""

    def __init__(self, base, name):
        self.base, self.name = base, name
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            send_traffic(self.base, self.name, 10)
            self.stop.wait(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exception):
        self.stop.set()
        self.thread.join(timeout=60)


class Steps:
    def __init__(self, page, screenshots):
        self.page = page
        self.screenshots = screenshots
        self.count = 0

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.screenshots, f"{self.count:02d}-{name}.png")
        self.page.screenshot(path=path, full_page=True)
        print(f"  screenshot {path}")

    def set_code(self, code):
        editor = self.page.locator(".code-input")
        editor.fill(code)

    def run_and_wait(self):
        page = self.page
        page.locator("#run").click()
        expect(page.locator("#run")).to_have_text("Run", timeout=TIMEOUT)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sluice", default=os.path.join(ROOT, ".build/debug/sluice"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshots", default=os.path.join(ROOT, ".build/studio-screenshots"))
    arguments = parser.parse_args()
    os.makedirs(arguments.screenshots, exist_ok=True)

    project = tempfile.mkdtemp(prefix="sluice-studio-browser-")
    shutil.copytree(os.path.join(ROOT, "transformations"), os.path.join(project, "transformations"))
    shutil.copytree(os.path.join(ROOT, "libraries"), os.path.join(project, "libraries"))
    # A recording for Studio to run slices of: the transformation's case inputs through `sluice
    # record`, into DIR/recordings (where `sluice studio DIR` looks).
    cases = os.path.join(project, "transformations", TRANSFORMATION, "tests")
    subprocess.run([os.path.abspath(arguments.sluice), "record", os.path.join(cases, "sample", "input.json"),
                    os.path.join(cases, "edge-cases", "input.json"), "--transformation", os.path.join(project, "transformations", TRANSFORMATION),
                    "--output", os.path.join(project, "recordings")], check=True)
    studio = StudioProcess(os.path.abspath(arguments.sluice), project)
    print(f"Studio at {studio.url}")
    failures = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=arguments.chromium, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console_errors = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: console_errors.append(str(error)))
            requests = []
            page.on("request", lambda request: requests.append(request.url))
            steps = Steps(page, arguments.screenshots)
            expect.set_options(timeout=TIMEOUT)

            def step(name, action):
                print(f"step: {name}")
                try:
                    action()
                except Exception as error:  # noqa: BLE001 - every failed step is reported, then the run fails
                    failures.append(f"{name}: {error}")
                    steps.shot(f"FAILED-{name}")

            # 1. Open Studio: the catalog lists the shipped transformations and libraries.
            def open_studio():
                page.goto(studio.url)
                expect(page.locator("body[data-ready=true]")).to_be_visible()
                expect(page.locator(f'#transformations li[data-name="{TRANSFORMATION}"]')).to_be_visible()
                expect(page.locator('#libraries li[data-name="pii"]').first).to_be_visible()
                steps.shot("open")
            step("open", open_studio)

            # 2. Pick a shipped transformation and run its cases: every case passes.
            original = {}

            def run_cases():
                page.locator(f'#transformations li[data-name="{TRANSFORMATION}"] button').click()
                expect(page.locator("#title")).to_have_text(TRANSFORMATION)
                original["code"] = page.locator(".code-input").input_value()
                assert "transformEvent" in original["code"]
                steps.run_and_wait()
                runs = page.locator(".run")
                expect(runs.first).to_be_visible()
                statuses = [runs.nth(index).get_attribute("data-status") for index in range(runs.count())]
                assert statuses and all(status == "passed" for status in statuses), f"case statuses {statuses}"
                steps.shot("cases-pass")
            step("run-cases", run_cases)

            # 3. A syntax error: the marker sits at its line.
            def syntax_error():
                lines = original["code"].split("\n")
                broken_line = next(index for index, line in enumerate(lines) if line.startswith("const PRODUCT_EVENT")) + 1
                lines[broken_line - 1] = "const PRODUCT_EVENT = ;"
                steps.set_code("\n".join(lines))
                steps.run_and_wait()
                expect(page.locator("#compile-error")).to_be_visible()
                marker = page.locator(".gutter .line-number.marked.error")
                expect(marker).to_have_count(1)
                assert marker.get_attribute("data-line") == str(broken_line), f"marker at {marker.get_attribute('data-line')}, expected {broken_line}"
                steps.shot("syntax-error-marker")
            step("syntax-error", syntax_error)

            # 4. A pasted batch that splits and drops.
            def pasted_batch():
                steps.set_code(original["code"])
                page.locator("#input-events").check()
                page.locator("#events").fill("\n".join([
                    '{"type":"track","event":"Order Completed","messageId":"o-1","properties":{"orderId":"A","currency":"EUR","products":[{"sku":"x"},{"sku":"y"},{"sku":"z"}]}}',
                    '{"type":"track","event":"Order Completed","messageId":"o-2","properties":{"orderId":"B","products":[]}}',
                    '{"type":"page","name":"Home","messageId":"o-3"}',
                ]))
                steps.run_and_wait()
                split = page.locator('tr.event[data-outcome="split"]')
                expect(split).to_have_count(1)
                expect(split.locator(".outcome")).to_have_text("split into 3")
                expect(page.locator('tr.event[data-outcome="dropped"]')).to_have_count(1)
                expect(page.locator('tr.event[data-outcome="output"]')).to_have_count(1)
                # The run's per-event times as a histogram: three events in its buckets.
                expect(page.locator('figure.histogram[data-events="3"] rect.bar')).to_have_count(10)
                expect(page.locator("figure.histogram figcaption")).to_contain_text("p99")
                steps.shot("pasted-split-drop")
            step("pasted-batch", pasted_batch)

            # 5. Diff against expected: a changed event name shows old -> new by path.
            def diff():
                changed = original["code"].replace('const PRODUCT_EVENT = "Product Purchased";', 'const PRODUCT_EVENT = "Product Bought";')
                assert changed != original["code"]
                steps.set_code(changed)
                page.locator("#input-cases").check()
                steps.run_and_wait()
                expect(page.locator('.run[data-status="failed"]').first).to_be_visible()
                difference = page.locator(".diff tr.difference", has_text=".output.event").first
                expect(difference).to_contain_text("$[")
                expect(difference.locator(".old")).to_contain_text("Product Purchased")
                expect(difference.locator(".new")).to_contain_text("Product Bought")
                steps.shot("diff-against-expected")
                # The viewport only, scrolled to the first differences: the picture docs/studio.md shows.
                page.locator(".diff").first.scroll_into_view_if_needed()
                page.screenshot(path=os.path.join(arguments.screenshots, "studio-diff-viewport.png"))
            step("diff", diff)

            # 6. A memory bomb: memory_limit, and the page answers while it runs.
            def memory_bomb():
                page.locator("#new-transformation").click()
                steps.set_code("export function transformEvent(event) {\n  const keep = [];\n  while (true) keep.push(new Array(100000).fill(keep.length));\n}\n")
                page.locator("#events").fill('[{"type":"track","event":"bomb","messageId":"b-1"}]')
                page.locator("#memory-limit").fill("32")
                page.locator("#time-limit").fill("3000")
                page.locator("#run").click()
                # While the run is on, the page still answers: filtering the list is immediate.
                page.locator("#filter").fill("order-to")
                expect(page.locator("#transformations li")).to_have_count(2, timeout=5_000)
                page.locator("#filter").fill("")
                expect(page.locator("#run")).to_have_text("Run", timeout=TIMEOUT)
                row = page.locator('tr.event[data-kind="memory_limit"]')
                expect(row).to_have_count(1)
                expect(row).to_contain_text("limit hit")
                steps.shot("memory-limit")
            step("memory-bomb", memory_bomb)

            # 7. Publish a new version through the native API, publish another, roll back to the first.
            def publish_and_roll_back():
                page.locator("#new-transformation").click()
                page.locator("#publish-name").fill("studio-browser-demo")
                steps.set_code("export function transformEvent(event) {\n  return { ...event, version: 1 };\n}\n")
                page.locator("#publish").click()
                expect(page.locator("#title")).to_have_text("studio-browser-demo")
                expect(page.locator("#versions li.live")).to_have_count(1)
                first = page.locator("#versions li.live").get_attribute("data-version")
                steps.set_code("export function transformEvent(event) {\n  return { ...event, version: 2 };\n}\n")
                page.locator("#publish").click()
                expect(page.locator("#versions li")).to_have_count(2)
                expect(page.locator(f'#versions li.live[data-version="{first}"]')).to_have_count(0)
                steps.shot("published-two-versions")
                page.locator(f'#versions button.rollback[data-version="{first}"]').click()
                expect(page.locator(f'#versions li.live[data-version="{first}"]')).to_have_count(1)
                expect(page.locator(".code-input")).to_have_value("export function transformEvent(event) {\n  return { ...event, version: 1 };\n}\n")
                steps.shot("rolled-back")
            step("publish-and-roll-back", publish_and_roll_back)

            # 8. Live traffic: the transformation's chart is empty, then shows the events sent to it.
            demo = "studio-browser-demo"
            chart = page.locator(f'.live-chart[data-name="{demo}"]')

            def live_chart():
                expect(chart.locator(".live-empty")).to_contain_text("no traffic in the last 15 minutes")
                send_traffic(studio.url, demo, 40)
                expect(page.locator(f'.live-chart[data-name="{demo}"][data-events="40"]')).to_be_visible(timeout=15_000)
                expect(chart.locator("svg rect.rate").first).to_be_visible()
                expect(chart.locator("svg polyline.p99")).to_have_count(1)
                expect(chart.locator("figcaption")).to_contain_text("40 events, 0 errors, 0 limit hits")
                steps.shot("live-chart")
            step("live-chart", live_chart)

            # 9. A shadow run of the version that is not live, from the page: its report shows the
            # events compared and how they differ, refreshing while traffic flows; then stop it.
            def shadow():
                live = page.locator("#versions li.live").get_attribute("data-version")
                expect(page.locator("#fleet-candidate option")).to_have_count(1)
                candidate = page.locator("#fleet-candidate option").first.get_attribute("value")
                assert candidate != live, f"candidate {candidate} is the live version"
                page.locator("#shadow-rate").fill("100")
                page.locator("#shadow-start").click()
                expect(page.locator('#shadow-report[data-state="running"]')).to_be_visible()
                with TrafficLoop(studio.url, demo):
                    expect(page.locator('#shadow-report[data-state="running"]:not([data-differing="0"])')).to_be_visible(timeout=TIMEOUT)
                expect(page.locator("#shadow-report .shadow-summary")).to_contain_text("differing")
                difference = page.locator(".shadow-examples tr.difference", has_text=".output.version").first
                expect(difference.locator(".old")).to_contain_text("1")
                expect(difference.locator(".new")).to_contain_text("2")
                expect(page.locator("#fleet")).not_to_contain_text("null")
                steps.shot("shadow-report")
                page.locator("#shadow-stop").click()
                expect(page.locator('#shadow-report[data-state="stopped"]')).to_be_visible()
                expect(page.locator("#shadow-start")).to_be_enabled()
            step("shadow", shadow)

            # 10. A canary rollout of that version: its state, then promoted: the live version changes.
            def canary():
                candidate = page.locator("#fleet-candidate option").first.get_attribute("value")
                page.locator("#canary-percent").fill("50")
                page.locator("#canary-start").click()
                expect(page.locator(f'#canary-state[data-state="active"][data-candidate="{candidate}"]')).to_be_visible()
                expect(page.locator("#canary-state")).to_contain_text("50 % to")
                # rudder-server's traffic: split by user between the live version and the candidate.
                send_custom_transform(studio.url, demo, 40)
                expect(page.locator('#canary-state[data-events="40"]')).to_be_visible()
                expect(page.locator('#canary-state:not([data-candidate-events="0"])')).to_be_visible()
                steps.shot("canary-active")
                page.locator("#canary-promote").click()
                expect(page.locator(f'#versions li.live[data-version="{candidate}"]')).to_have_count(1)
                expect(page.locator('#canary-state[data-state="promoted"]')).to_be_visible()
                expect(page.locator(".code-input")).to_have_value("export function transformEvent(event) {\n  return { ...event, version: 2 };\n}\n")
                expect(page.locator("#fleet")).not_to_contain_text("null")
                steps.shot("canary-promoted")
            step("canary", canary)

            # 11. A slice of a recording with changed code: the changed events, by path, old -> new.
            def recording_slice():
                page.locator(f'#transformations li[data-name="{TRANSFORMATION}"] button').click()
                expect(page.locator("#title")).to_have_text(TRANSFORMATION)
                code = page.locator(".code-input").input_value()
                changed = code.replace('const PRODUCT_EVENT = "Product Purchased";', 'const PRODUCT_EVENT = "Product Bought";')
                assert changed != code
                steps.set_code(changed)
                page.locator("#input-recording").check()
                expect(page.locator("#recording-box")).to_be_visible()
                # The transformation's own recording is picked, with its event count and time range.
                expect(page.locator("#recording")).to_have_value(f"1:{TRANSFORMATION}")
                expect(page.locator("#recording-info")).to_contain_text(f"transformation {TRANSFORMATION}")
                page.locator("#slice-offset").fill("0")
                page.locator("#slice-count").fill("6")
                steps.run_and_wait()
                run = page.locator('.run[data-status="changed"]')
                expect(run).to_have_count(1)
                expect(run.locator("tr.event")).to_have_count(6)
                changed_count = int(run.locator('.replay-counts li[data-kind="changed"] strong').inner_text())
                assert changed_count >= 1, f"{changed_count} changed events"
                expect(run.locator(".replay-event")).to_have_count(changed_count + int(run.locator('.replay-counts li[data-kind="newly failing"] strong').inner_text())
                                                                   + int(run.locator('.replay-counts li[data-kind="newly passing"] strong').inner_text())
                                                                   + int(run.locator('.replay-counts li[data-kind="newly dropped"] strong').inner_text())
                                                                   + int(run.locator('.replay-counts li[data-kind="newly produced"] strong').inner_text()))
                difference = run.locator(".replay-event tr.difference", has_text=".output.event").first
                expect(difference.locator(".old")).to_contain_text("Product Purchased")
                expect(difference.locator(".new")).to_contain_text("Product Bought")
                run.locator(".replay").scroll_into_view_if_needed()
                steps.shot("recording-slice-diff")
                # The saved code on the same slice: every event unchanged.
                steps.set_code(code)
                steps.run_and_wait()
                expect(page.locator('.run[data-status="unchanged"]')).to_have_count(1)
                expect(page.locator(".replay-event")).to_have_count(0)
                # Too large a slice: the service's limit, said in the page (which does not send it).
                page.locator("#slice-count").fill("5000")
                page.locator("#run").click()
                expect(page.locator("#run-error")).to_contain_text("slice limit of 1000 events")
            step("recording-slice", recording_slice)

            foreign = [url for url in requests if not url.startswith(studio.url.rstrip("/"))]
            if foreign:
                failures.append(f"the page requested other origins: {foreign}")
            if console_errors:
                failures.append(f"console errors: {console_errors}")
            browser.close()
    finally:
        studio.stop()
        shutil.rmtree(project, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("studio browser test: all steps passed")


if __name__ == "__main__":
    main()
