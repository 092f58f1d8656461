// Contrast of every visible text in `root` with what is painted behind it (WCAG 2.x).
// Colours are read with getComputedStyle and resolved by painting them on a 1x1 canvas, so
// any CSS colour syntax works (rgb, color-mix, color(srgb ...)). The background at a text's
// centre is every element under that point (elementsFromPoint), the text's own included,
// composited from the page's white canvas upward, with element opacity applied; SVG shapes
// count with their fill. Returns {checked, failures: [{text, ratio, fg, bg, where}]}.
(root, minimum) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const paint = (css) => {
    if (!css || css === "none" || css.startsWith("url(")) return null;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0, 0, 0, 0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      o *= parseFloat(getComputedStyle(e).opacity);
    }
    return o;
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const SHAPES = new Set(["rect", "circle", "ellipse", "path", "polygon"]);
  const layerColour = (el) => {
    const style = getComputedStyle(el);
    let colour;
    if (el instanceof SVGElement) {
      if (!SHAPES.has(el.tagName)) return null;
      colour = paint(style.fill);
      if (colour) colour[3] *= parseFloat(style.fillOpacity);
    } else {
      colour = paint(style.backgroundColor);
    }
    if (!colour) return null;
    colour[3] *= opacity(el);
    return colour[3] > 0 ? colour : null;
  };
  const background = (x, y, el) => {
    const stack = document.elementsFromPoint(x, y);
    const at = stack.indexOf(el);
    // the text's own element paints its background behind the text too (a button, an input)
    const below = at >= 0 ? stack.slice(at) : stack.filter((e) => !el.contains(e) || e === el);
    let bg = [255, 255, 255];
    for (const layer of below.reverse()) {
      const colour = layerColour(layer);
      if (colour) bg = over(colour, bg);
    }
    return bg;
  };
  const hex = (rgb) => "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const skip = (el) =>
    el.closest("style, script, [hidden], :disabled, .mod-disabled, .jupyter-widgets-disabled") !== null;

  const targets = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text || skip(node.parentElement)) continue;
    targets.push({ el: node.parentElement, text, node });
  }
  for (const el of root.querySelectorAll("input, textarea, select")) {
    const text = (el.value || "").trim();
    if (text && el.type !== "checkbox" && el.type !== "range" && !skip(el)) {
      targets.push({ el, text, node: null });
    }
  }

  const failures = [];
  let checked = 0;
  for (const { el, text, node } of targets) {
    let rect;
    if (node) {
      const range = document.createRange();
      range.selectNodeContents(node);
      rect = range.getBoundingClientRect();
    } else {
      rect = el.getBoundingClientRect();
    }
    if (rect.width < 1 || rect.height < 1) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      el.scrollIntoView({ block: "center" });
      rect = node
        ? (() => {
            const range = document.createRange();
            range.selectNodeContents(node);
            return range.getBoundingClientRect();
          })()
        : el.getBoundingClientRect();
    }
    const x = rect.left + rect.width / 2;
    const y = rect.top + rect.height / 2;
    const svgText = el instanceof SVGElement;
    const fg = paint(svgText ? style.fill : style.color);
    if (!fg) continue;
    fg[3] *= opacity(el) * (svgText ? parseFloat(style.fillOpacity) : 1);
    const bg = background(x, y, el);
    const shown = over(fg, bg);
    const l1 = luminance(shown);
    const l2 = luminance(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    checked += 1;
    if (ratio < minimum) {
      const where = (el.getAttribute("class") || el.tagName).toString().slice(0, 60);
      failures.push({ text: text.slice(0, 40), ratio: Math.round(ratio * 100) / 100, fg: hex(shown), bg: hex(bg), where });
    }
  }
  return { checked, failures };
}
