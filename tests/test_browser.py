"""Every lesson, run in a real JupyterLab in a real browser (Chromium driven by Playwright).

nbval proves the cells run; these tests check what a learner sees: no error output, the
training progress bar drawn as an ipywidget, every figure, rendered LaTeX, and matplotlib's
animation player with visible Font Awesome icons whose "Next frame" button steps the frame.

One JupyterLab (this Python's, on 127.0.0.1, a free port, a token) serves a temporary copy of
``notebooks/`` and ``docs/`` for the whole module, so nothing is written into the repository;
each lesson runs in quick mode (GAN_TUTORIAL_QUICK=1) and the data root is inherited
(GAN_TUTORIAL_DATA). The browser may reach only that server: everything else is blocked, as
on an offline laptop. Screenshots of every lesson and player go to ``runs/browser-screenshots/``
(or $GAN_TUTORIAL_SCREENSHOTS); the path is printed.

Needs Playwright's Python package (``pip install playwright``, in the ``test`` extra) and a
Chromium binary (Debian/Ubuntu: ``apt-get install chromium``; elsewhere set
GAN_TUTORIAL_CHROMIUM to a Chromium or Chrome executable). Playwright's own browser download
(``playwright install``) is not used. Without them the tests are skipped, except in CI
(CI=true), where they fail.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from lab_server import LabServer
from notebook_expectations import LessonExpectations, expectations
from suite_data import in_ci, require_notebook_data

REPO = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (REPO / "notebooks").glob("0*.ipynb"))
# lessons with LaTeX math / an animation player: those tests run on these (never a skip in CI)
MATH_LESSONS = [n for n in LESSONS if expectations(REPO / "notebooks" / n).math_cells]
PLAYER_LESSONS = [n for n in LESSONS if expectations(REPO / "notebooks" / n).player_cells]
# lessons with a training cell (lesson 06 trains nothing: it reads saved runs)
TRAINING_LESSONS = [n for n in LESSONS if expectations(REPO / "notebooks" / n).training_cells]
# the session fixtures of the root conftest.py that skip (outside CI) when a dataset is missing
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic",
                 "--disable-default-apps", "--mute-audio"]
RUN_TIMEOUT_S = 1200  # one quick lesson takes about a minute on 2 busy cores
RENDER_TIMEOUT_S = 60  # for widgets, MathJax and images to appear once the kernel is idle
VIEWPORT = {"width": 1280, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 15000  # Chromium's limit for one capture is 16384 px

pytestmark = pytest.mark.skipif(not LESSONS, reason="no notebooks/0*.ipynb found")


def _missing(what: str, how: str) -> None:
    """Skip outside CI, fail in CI, saying how to get ``what``."""
    message = f"browser tests need {what}: {how}"
    if in_ci():
        pytest.fail(message + " (CI=true: the browser tests may not be skipped)", pytrace=False)
    pytest.skip(message)


def chromium_path() -> str | None:
    """$GAN_TUTORIAL_CHROMIUM, else a ``chromium``/``chromium-browser`` on PATH."""
    configured = os.environ.get("GAN_TUTORIAL_CHROMIUM")
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"GAN_TUTORIAL_CHROMIUM={configured!r} is not an executable file; set it "
                        f"to a Chromium or Chrome binary, or unset it to use `chromium` on PATH.",
                        pytrace=False)
        return configured
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def _report(config: pytest.Config, line: str) -> None:
    """Write a line to the terminal, past pytest's output capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print(line, flush=True)


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    path = Path(os.environ.get("GAN_TUTORIAL_SCREENSHOTS", REPO / "runs" / "browser-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.png"):
        old.unlink()
    _report(request.config, f"\nbrowser tests: screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, closed (and its processes gone) at the end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright's Python package", "pip install playwright (or pip install -e '.[test]'); "
                 "its browser download is not needed")
    executable = chromium_path()
    if executable is None:
        _missing("Chromium", "apt-get install chromium (Debian/Ubuntu), or set "
                 "GAN_TUTORIAL_CHROMIUM to a Chromium or Chrome executable")
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                                  timeout=120_000)
        except Exception as err:  # noqa: BLE001 - say which binary failed
            pytest.fail(f"Chromium at {executable} did not start under Playwright: {err}",
                        pytrace=False)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, browser) -> LabServer:
    """One JupyterLab for the module, serving a copy of notebooks/ and docs/ (no kernel yet)."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _missing("JupyterLab", "pip install -e '.[lab]'")
    work = tmp_path_factory.mktemp("jupyterlab")
    root = work / "root"
    ignore = shutil.ignore_patterns("runs", ".ipynb_checkpoints", "__pycache__")
    for folder in ("notebooks", "docs"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder, ignore=ignore)
    (root / "published").mkdir()
    for path in (REPO / "notebooks").glob("0*.ipynb"):  # as committed: the class run's stored outputs
        shutil.copy(path, root / "published" / path.name)
    for path in (root / "notebooks").glob("*.ipynb"):  # every output must come from this run
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)
    env = {"GAN_TUTORIAL_QUICK": "1",  # these tests check rendering; full runs take hours
           # the kernel imports this checkout's package, wherever the notebooks are served from
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with LabServer(root, work / "server", env=env, trusted=sorted((root / "published").glob("*.ipynb"))) as server:
        yield server


@dataclass
class LessonRun:
    """A lesson after Run All: its page (still open), expectations and what happened."""

    name: str
    page: object
    expected: LessonExpectations
    seconds: float
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


_CELL_STATE_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')];
  return {
    status: document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status'),
    kinds: cells.map(c => c.classList.contains('jp-CodeCell') ? 'code'
                          : c.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw'),
    prompts: cells.map(c => c.classList.contains('jp-CodeCell')
                            ? c.querySelector('.jp-InputPrompt').textContent.trim() : null),
    errors: document.querySelectorAll('.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
  };
}"""


def _wait(page, predicate_js: str, timeout_s: float, arg=None, what: str = ""):
    """Poll a JS function until it returns a truthy value; fail saying ``what`` on time-out."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_function(predicate_js, arg=arg, timeout=timeout_s * 1000,
                                      polling=1000).json_value()
    except PlaywrightTimeout:
        pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}", pytrace=False)


@pytest.fixture(scope="module", params=LESSONS)
def lesson(request: pytest.FixtureRequest, lab: LabServer, browser, screenshot_dir: Path):
    """Open one lesson in JupyterLab, Run All Cells, wait for the kernel to finish."""
    name = request.param
    require_notebook_data(request, name)  # skips, with how to get it, if missing
    expected = expectations(lab.root_dir / "notebooks" / name)
    context = browser.new_context(viewport=VIEWPORT)
    run = LessonRun(name=name, page=None, expected=expected, seconds=0.0)

    def route(route_request):  # offline, like a laptop without network: only the server
        if route_request.request.url.startswith(lab.base_url):
            route_request.continue_()
        else:
            run.blocked.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(60_000)
    run.page = page
    page.on("console", lambda msg: msg.type == "error" and run.console_errors.append(
        f"{msg.text} ({msg.location.get('url', '')})"))
    page.on("pageerror", lambda err: run.page_errors.append(str(err)))
    try:
        start = time.monotonic()
        workspace = re.sub(r"\W", "", name)
        page.goto(lab.url(f"/lab/workspaces/{workspace}/tree/notebooks/{name}"), timeout=180_000)
        n_cells = len(expected.cell_types)
        _wait(page, f"() => {{ const s = ({_CELL_STATE_JS})(); return s.kinds.length === {n_cells} "
                    f"&& s.status === 'idle'; }}", 300,
              what=f"{name} to open with {n_cells} cells and an idle kernel")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        # Done when no cell waits ([*]) and every code cell ran, or an error stopped the run.
        _wait(page, f"""() => {{
            const s = ({_CELL_STATE_JS})();
            const code = s.prompts.filter(p => p !== null);
            const ran = code.filter(p => /^\\[\\d+\\]:$/.test(p)).length;
            return s.status === 'idle' && !code.includes('[*]:')
                   && (ran === code.length || s.errors > 0);
        }}""", RUN_TIMEOUT_S, what=f"{name} to finish Run All Cells")
        run.seconds = time.monotonic() - start
        _report(request.config, f"browser tests: {name} opened and ran in {run.seconds:.0f} s")
        yield run
    finally:
        try:
            _screenshot_notebook(page, screenshot_dir / f"{Path(name).stem}.png")
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test result
            pass
        context.close()
        lab.shutdown_kernels()  # free the lesson's memory before the next one


# --- page helpers ----------------------------------------------------------------------------
def _cell(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def _screenshot_notebook(page, path: Path) -> None:
    """The whole notebook in one picture: a viewport as tall as its content, then restored."""
    height = page.evaluate("""() => {
        const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
        if (!scroller) return document.body.scrollHeight;
        scroller.scrollTop = 0;
        return scroller.getBoundingClientRect().top + scroller.scrollHeight; }""")
    page.set_viewport_size({"width": VIEWPORT["width"],
                            "height": int(min(height + 60, MAX_SCREENSHOT_HEIGHT))})
    try:
        page.wait_for_timeout(1500)  # let the notebook lay out in its new size
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(VIEWPORT)


def _cells_with(page, indices: list[int], js: str, timeout_s: float, what: str) -> dict:
    """Evaluate ``js`` (cell element -> truthy when rendered) on each cell until all pass.

    Returns {index: value}; fails listing the cells that never passed.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        values = {i: _cell(page, i).evaluate(js) for i in indices}
        missing = [i for i, ok in values.items() if not ok]
        if not missing:
            return values
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: missing in cell(s) {missing} (0-based, all cells counted)",
                        pytrace=False)
        time.sleep(1)


def _png_colours(png: bytes) -> int:
    """How many distinct colours a screenshot holds (1 means blank)."""
    from PIL import Image

    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours) if colours is not None else 1 << 20


# --- tests -----------------------------------------------------------------------------------
def test_runs_without_errors(lesson: LessonRun) -> None:
    """Every code cell ran, in order, with no traceback or error on the page."""
    page = lesson.page
    stderr = page.eval_on_selector_all(
        '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
        "nodes => nodes.map(n => n.innerText)")
    tracebacks = [text for text in stderr
                  if re.search(r"Traceback|^\w*(Error|Exception)\b", text, re.M)]
    assert not tracebacks, f"{lesson.name} shows an error output:\n" + tracebacks[0][-3000:]
    state = page.evaluate(_CELL_STATE_JS)
    prompts = [p for p in state["prompts"] if p is not None]
    assert prompts == [f"[{i}]:" for i in range(1, len(prompts) + 1)], (
        f"{lesson.name}: code cells did not all run once, in order: {prompts}")
    assert not lesson.page_errors, f"{lesson.name}: JavaScript errors: {lesson.page_errors}"
    # The only console errors allowed are requests to outside servers, which this test blocks
    # (the player asks a CDN for Font Awesome; JupyterLab already bundles it).
    local = [e for e in lesson.console_errors
             if "net::ERR_FAILED" not in e or "127.0.0.1" in e.rsplit("(", 1)[-1]]
    assert not local, f"{lesson.name}: browser console errors: {local}"


@pytest.mark.parametrize("lesson", TRAINING_LESSONS, indirect=True)
def test_progress_bar_is_a_widget(lesson: LessonRun) -> None:
    """tqdm.auto draws each training run's bar as an ipywidget, finished (green), not as text."""
    cells = lesson.expected.training_cells
    assert cells, f"{lesson.name} has no cell calling .fit(: nothing trains in this lesson?"
    bars = _cells_with(lesson.page, cells, """cell => {
        const bars = [...cell.querySelectorAll('.jp-OutputArea .jupyter-widgets .progress-bar')];
        const shown = bars.filter(b => { const r = b.getBoundingClientRect();
                                         return r.width > 0 && r.height > 0; });
        return shown.length ? shown.map(b => b.className) : null;
    }""", RENDER_TIMEOUT_S, what=f"{lesson.name}: a progress-bar widget in each training cell")
    unfinished = {i: classes for i, classes in bars.items()
                  if not all("progress-bar-success" in c for c in classes)}
    assert not unfinished, (f"{lesson.name}: progress bars not finished successfully "
                            f"(tqdm marks interrupted bars 'danger'): {unfinished}")
    texts = lesson.page.eval_on_selector_all(
        ".jp-Notebook .jp-OutputArea-output", "nodes => nodes.map(n => n.innerText)")
    text_bars = [t for t in texts if re.search(r"\d+%\|", t) or "Loading widget" in t
                 or "Error displaying widget" in t]
    assert not text_bars, f"{lesson.name}: a progress bar rendered as text: {text_bars[:2]}"


def test_every_figure_is_shown(lesson: LessonRun) -> None:
    """Each cell calling a plotting function shows a decoded image; no image is broken."""
    cells = lesson.expected.figure_cells
    assert cells, f"{lesson.name} has no plotting cell: nothing to check?"
    counts = _cells_with(lesson.page, cells, """cell => {
        const imgs = [...cell.querySelectorAll('.jp-OutputArea-output img')]
            .filter(img => !img.closest('.animation'));
        return imgs.filter(img => img.complete && img.naturalWidth > 0).length;
    }""", RENDER_TIMEOUT_S, what=f"{lesson.name}: a figure in each plotting cell")
    assert sum(counts.values()) >= len(cells)
    broken = lesson.page.eval_on_selector_all(
        ".jp-Notebook img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0))"
                            ".map(i => i.src.slice(0, 80))")
    assert not broken, f"{lesson.name}: images that did not load: {broken}"


@pytest.mark.parametrize("lesson", MATH_LESSONS, indirect=True)
def test_math_renders(lesson: LessonRun) -> None:
    """MathJax typesets the $…$ of every markdown cell, without errors or leftover dollars."""
    cells = lesson.expected.math_cells
    _cells_with(lesson.page, cells, "cell => cell.querySelectorAll('mjx-container').length",
                RENDER_TIMEOUT_S, what=f"{lesson.name}: MathJax output in each markdown cell with $…$")
    problems = {}
    for i in cells:
        found = _cell(lesson.page, i).evaluate("""cell => {
            const out = cell.querySelector('.jp-RenderedMarkdown');
            const errors = out.querySelectorAll('mjx-merror').length;
            const copy = out.cloneNode(true);
            copy.querySelectorAll('mjx-container, code, pre').forEach(n => n.remove());
            const leftover = (copy.textContent.match(/\\$[^$]*\\$/g) || []);
            return errors || leftover.length ? {errors, leftover} : null;
        }""")
        if found:
            problems[i] = found
    assert not problems, f"{lesson.name}: math that did not render: {problems}"


@pytest.mark.parametrize("lesson", PLAYER_LESSONS, indirect=True)
def test_animation_player(lesson: LessonRun, screenshot_dir: Path) -> None:
    """The to_jshtml player shows, its Font Awesome icons are drawn, and Next frame steps."""
    cells = lesson.expected.player_cells
    page = lesson.page
    for i in cells:
        player = _cell(page, i).locator(".animation").first
        player.wait_for(state="attached", timeout=RENDER_TIMEOUT_S * 1000)
        player.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        stem = f"{Path(lesson.name).stem}_player_cell{i}"
        icons = player.evaluate("""anim => [...anim.querySelectorAll('button')].map(b => {
            const icon = b.querySelector('i'), r = (icon || b).getBoundingClientRect();
            const glyph = icon ? getComputedStyle(icon, '::before') : null;
            return {label: b.getAttribute('aria-label') || b.title, width: r.width, height: r.height,
                    content: glyph ? glyph.content : 'none',
                    font: glyph ? glyph.fontFamily : '', weight: glyph ? glyph.fontWeight : ''};
        })""")
        assert len(icons) >= 7, f"{lesson.name} cell {i}: player has {len(icons)} buttons: {icons}"
        loaded = page.evaluate("""() => [...document.fonts]
            .filter(f => /font ?awesome/i.test(f.family) && f.status === 'loaded')
            .map(f => `${f.family} ${f.weight}`)""")
        assert loaded, f"{lesson.name}: no Font Awesome font face is loaded in the page"
        bad = [icon for icon in icons
               if icon["width"] < 4 or icon["height"] < 4 or icon["content"] in ("none", "normal", '""')
               or not re.search(r"font ?awesome", icon["font"], re.I)]
        assert not bad, (f"{lesson.name} cell {i}: player icons not drawn with Font Awesome "
                         f"(loaded faces: {loaded}): {bad}")
        blank = []
        for label in (icon["label"] for icon in icons):
            png = player.get_by_role("button", name=label, exact=True).locator("i").screenshot()
            if _png_colours(png) < 2:
                blank.append(label)
        assert not blank, f"{lesson.name} cell {i}: player icons drawn blank: {blank}"
        player.screenshot(path=str(screenshot_dir / f"{stem}_before.png"))
        frames = player.evaluate("anim => +(anim.querySelector('input[type=range]')?.max ?? 0) + 1")
        assert frames >= 2, f"{lesson.name} cell {i}: the player has {frames} frame(s); quick " \
                            f"mode should snapshot at least twice"
        player.get_by_role("button", name="Pause", exact=True).click()
        player.get_by_role("button", name="First frame", exact=True).click()
        before = player.evaluate("anim => [anim.querySelector('img').src, "
                                 "anim.querySelector('input[type=range]').value]")
        player.get_by_role("button", name="Next frame", exact=True).click()
        page.wait_for_timeout(300)
        after = player.evaluate("anim => [anim.querySelector('img').src, "
                                "anim.querySelector('input[type=range]').value]")
        player.screenshot(path=str(screenshot_dir / f"{stem}_after_next.png"))
        assert after[1] != before[1], f"{lesson.name} cell {i}: Next frame did not move the slider"
        assert after[0] != before[0], f"{lesson.name} cell {i}: Next frame did not change the image"


# --- a lesson as committed, read without running it (issue 33) ---------------------------------
def test_a_published_lesson_shows_its_figures_and_player_without_running(lab: LabServer, browser,
                                                                          screenshot_dir: Path) -> None:
    """Lesson 02 opened, not run: every stored figure is drawn, and the stored player steps."""
    name = "02_dcgan_mnist.ipynb"
    stored = nbformat.read(REPO / "notebooks" / name, as_version=4)
    expected = expectations(REPO / "notebooks" / name)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(lab.url(f"/lab/workspaces/published/tree/published/{name}"), timeout=180_000)
        _wait(page, f"() => ({_CELL_STATE_JS})().kinds.length === {len(stored.cells)}", 120,
              what=f"{name} to open")
        counts = _cells_with(page, expected.figure_cells, """cell => {
            const imgs = [...cell.querySelectorAll('.jp-OutputArea-output img')]
                .filter(img => !img.closest('.animation'));
            return imgs.filter(img => img.complete && img.naturalWidth > 0).length;
        }""", RENDER_TIMEOUT_S, what=f"{name}: a stored figure in each plotting cell")
        assert sum(counts.values()) >= len(expected.figure_cells) >= 5
        prompts = page.evaluate(f"() => ({_CELL_STATE_JS})().prompts.filter(p => p !== null)")
        code = [c for c in stored.cells if c.cell_type == "code"]
        assert prompts == [f"[{c.execution_count}]:" for c in code], "a cell ran or lost its stored count"
        (i,) = expected.player_cells
        player = _cell(page, i).locator(".animation").first
        player.wait_for(state="attached", timeout=RENDER_TIMEOUT_S * 1000)
        player.scroll_into_view_if_needed()
        player.get_by_role("button", name="Pause", exact=True).click()
        player.get_by_role("button", name="First frame", exact=True).click()
        before = player.evaluate("anim => anim.querySelector('img').src")
        player.get_by_role("button", name="Next frame", exact=True).click()
        page.wait_for_timeout(300)
        assert player.evaluate("anim => anim.querySelector('img').src") != before, "the stored player did not step"
        _screenshot_notebook(page, screenshot_dir / "published_02_dcgan_mnist.png")
    finally:
        context.close()
        lab.shutdown_kernels()


# --- lesson 00's playground and the live training view (issue 31) ------------------------------
_STATUS_JS = """cell => { const s = [...cell.querySelectorAll('.widget-html-content')]
    .map(n => n.innerText).find(t => t.includes('weights D')); return s || null; }"""
_PICTURE_JS = """cell => { const img = cell.querySelector('.jupyter-widgets img');
    return img && img.complete && img.naturalWidth > 0 ? img.src.length + ':' + img.src.slice(-64) : null; }"""


def _tags(status: str) -> tuple[str, str]:
    found = re.search(r"weights D (\w+), G (\w+)", status)
    assert found, f"the playground's status line names no weights: {status!r}"
    return found.group(1), found.group(2)


def _after_click(page, cell, button: str, before: str) -> str:
    """Click a playground button and wait for its status line to change; return the new line."""
    cell.get_by_role("button", name=button, exact=True).click()
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while time.monotonic() < deadline:
        status = cell.evaluate(_STATUS_JS)
        if status and status != before:
            return status
        page.wait_for_timeout(200)
    pytest.fail(f"the playground's {button!r} button changed nothing within {RENDER_TIMEOUT_S} s", pytrace=False)


@pytest.mark.parametrize("lesson", [n for n in LESSONS if n.startswith("00_")], indirect=True)
def test_playground_buttons_and_controls_respond(lesson: LessonRun, screenshot_dir: Path) -> None:
    """D only moves D's weights and the picture, not G's; G only the reverse; a learning-rate
    control changes the running game's setting; Run trains until Pause."""
    page = lesson.page
    index = next(i for i, kind in enumerate(lesson.expected.cell_types)
                 if kind == "code" and "Playground(" in lesson.expected.sources[i])
    cell = _cell(page, index)
    cell.scroll_into_view_if_needed()
    status = _cells_with(page, [index], _STATUS_JS, RENDER_TIMEOUT_S, what="the playground's status line")[index]
    picture = cell.evaluate(_PICTURE_JS)
    assert picture, "the playground shows no picture"
    cell.screenshot(path=str(screenshot_dir / "00_playground_start.png"))
    d0, g0 = _tags(status)
    status = _after_click(page, cell, "D only", status)
    d1, g1 = _tags(status)
    assert d1 != d0 and g1 == g0, f"D only: D {d0}->{d1}, G {g0}->{g1}"
    page.wait_for_timeout(500)
    assert cell.evaluate(_PICTURE_JS) != picture, "D only did not redraw the picture"
    status = _after_click(page, cell, "G only", status)
    d2, g2 = _tags(status)
    assert d2 == d1 and g2 != g1, f"G only: D {d1}->{d2}, G {g1}->{g2}"
    cell.screenshot(path=str(screenshot_dir / "00_playground_after_d_and_g.png"))
    readout = cell.locator(".widget-readout").nth(1)  # lr G's value, editable
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("1.0e-2")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while "lr G 1.0e-02" not in (cell.evaluate(_STATUS_JS) or "") and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "lr G 1.0e-02" in cell.evaluate(_STATUS_JS), f"lr G did not reach the game: {cell.evaluate(_STATUS_JS)}"
    step = int(re.search(r"step (\d+)", cell.evaluate(_STATUS_JS)).group(1))
    cell.get_by_role("button", name="Run", exact=True).click()
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while int(re.search(r"step (\d+)", cell.evaluate(_STATUS_JS)).group(1)) < step + 50:
        assert time.monotonic() < deadline, "Run did not train 50 steps within a minute"
        page.wait_for_timeout(300)
    cell.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_timeout(3000)
    paused = cell.evaluate(_STATUS_JS)
    page.wait_for_timeout(2000)
    assert cell.evaluate(_STATUS_JS) == paused, "the playground went on training after Pause"
    cell.screenshot(path=str(screenshot_dir / "00_playground_after_run.png"))


_LIVE_OBSERVER_JS = """([index]) => {
    const cell = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[index];
    window.__liveSeen = [];
    const record = () => {
        const prompt = cell.querySelector('.jp-InputPrompt').textContent.trim();
        for (const img of cell.querySelectorAll('.jp-OutputArea-output img')) {
            const key = img.src.length + ':' + img.src.slice(-64);
            if (!window.__liveSeen.some(s => s.key === key)) window.__liveSeen.push({key, prompt});
        }
    };
    new MutationObserver(record).observe(cell, {subtree: true, childList: true, attributes: true,
                                                attributeFilter: ['src']});
}"""


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, browser, request) -> LabServer:
    """A JupyterLab whose kernels draw the live view (GAN_TUTORIAL_LIVE=1) in quick mode."""
    require_notebook_data(request, "01_fc_gan_mnist")
    work = tmp_path_factory.mktemp("jupyterlab-live")
    root = work / "root"
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.read(REPO / "notebooks" / "01_fc_gan_mnist.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # refresh at every snapshot: the quick run lasts seconds, the default schedule waits 2 s
    nb.cells.insert(1, nbformat.v4.new_code_cell("import gan_tutorial.live as live\n"
                                                 "live.MIN_INTERVAL_S, live.BUDGET = 0.0, 1.0"))
    nbformat.write(nb, root / "notebooks" / "01_live.ipynb")
    env = {"GAN_TUTORIAL_QUICK": "1", "GAN_TUTORIAL_LIVE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with LabServer(root, work / "server", env=env) as server:
        yield server


def test_a_training_cell_shows_the_grid_changing_while_it_runs(live_lab: LabServer, browser,
                                                               screenshot_dir: Path) -> None:
    """In lesson 01's training cell, the live picture changes at least 3 times before the cell ends."""
    expected = expectations(live_lab.root_dir / "notebooks" / "01_live.ipynb")
    index = expected.training_cells[0]
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(live_lab.base_url) else r.abort())
    page = context.new_page()
    try:
        page.goto(live_lab.url("/lab/workspaces/live/tree/notebooks/01_live.ipynb"), timeout=180_000)
        n_cells = len(expected.cell_types)
        _wait(page, f"() => {{ const s = ({_CELL_STATE_JS})(); return s.kinds.length === {n_cells} "
                    f"&& s.status === 'idle'; }}", 300, what="the notebook to open")
        page.evaluate(_LIVE_OBSERVER_JS, [index])
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        _wait(page, f"""() => {{ const s = ({_CELL_STATE_JS})();
                                 return s.prompts[{index}] && /^\\[\\d+\\]:$/.test(s.prompts[{index}]); }}""",
              RUN_TIMEOUT_S, what="the training cell to finish")
        seen = page.evaluate("() => window.__liveSeen")
        _cell(page, index).screenshot(path=str(screenshot_dir / "01_live_view.png"))
    finally:
        context.close()
        live_lab.shutdown_kernels()
    while_running = [s for s in seen if s["prompt"] == "[*]:"]
    assert len(while_running) >= 3, (f"the live view showed {len(while_running)} pictures while the "
                                     f"training cell ran (all seen: {len(seen)})")
