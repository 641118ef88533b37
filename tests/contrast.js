// Every visible text on the page with its colour and effective background, and every text colour
// BokehJS draws on a canvas with the fill behind it. Colours come back as [r, g, b] (0..255).
() => {
  const ctx = document.createElement("canvas").getContext("2d");
  const rgba = (c) => {  // any CSS colour -> [r, g, b, a]
    if (c == null) return null;
    const m = String(c).match(/rgba?\(([^)]+)\)/);
    if (m) { const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    ctx.fillStyle = "#010203"; ctx.fillStyle = String(c);
    const f = ctx.fillStyle;
    if (f === "#010203" && String(c).toLowerCase() !== "#010203") return null;
    if (f.startsWith("#")) return [parseInt(f.slice(1, 3), 16), parseInt(f.slice(3, 5), 16), parseInt(f.slice(5, 7), 16), 1];
    return rgba(f);
  };
  const over = (top, base) => top.slice(0, 3).map((v, i) => v * top[3] + base[i] * (1 - top[3]));
  const parent = (e) => e.parentElement || (e.getRootNode && e.getRootNode().host) || null;
  const background = (el) => {  // composite the backgrounds from the first opaque ancestor up to el
    const layers = [];
    for (let e = el; e; e = parent(e)) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let base = [255, 255, 255];
    for (const c of layers.reverse()) base = over(c, base);
    return base;
  };
  const opacity = (el) => { let o = 1; for (let e = el; e; e = parent(e)) o *= Number(getComputedStyle(e).opacity); return o; };
  const texts = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (["SCRIPT", "STYLE", "NOSCRIPT", "OPTION"].includes(el.tagName)) continue;
      // WCAG 1.4.3 exempts inactive controls (a disabled "Next" on a one-page table)
      if (el.disabled || el.getAttribute("aria-disabled") === "true") continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(" ").trim();
      if (!own) continue;
      const r = el.getBoundingClientRect();
      const st = getComputedStyle(el);
      if (r.width < 1 || r.height < 1 || st.visibility !== "visible" || st.display === "none") continue;
      const op = opacity(el);
      if (op < 0.05) continue;
      const bg = background(el);
      const fg = over([...rgba(st.color).slice(0, 3), rgba(st.color)[3] * op], bg);
      texts.push({text: own.slice(0, 60), fg, bg, where: el.tagName + "." + (el.className || "")});
    }
  };
  walk(document);
  const canvas = [];
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (!("border_fill_color" in m) || !("renderers" in m)) continue;  // a plot
    const page = background(document.body);
    const fillOf = (color, alpha) => { const c = rgba(color); return c ? over([...c.slice(0, 3), c[3] * (alpha ?? 1)], page) : page; };
    const border = fillOf(m.border_fill_color, m.border_fill_alpha);
    const inner = fillOf(m.background_fill_color, m.background_fill_alpha);
    const add = (what, color, alpha, bg) => { const c = rgba(color); if (c && alpha !== 0) canvas.push({text: what, fg: over([...c.slice(0, 3), c[3] * (alpha ?? 1)], bg), bg}); };
    if (m.title && m.title.text) add("title " + m.title.text, m.title.text_color, m.title.text_alpha, border);
    for (const ax of [...m.left, ...m.right, ...m.above, ...m.below]) {
      if ("major_label_text_color" in ax) add("ticks " + (ax.axis_label || ax.type), ax.major_label_text_color, ax.major_label_text_alpha, border);
      if ("group_text_color" in ax) add("group labels " + (ax.axis_label || ax.type), ax.group_text_color, ax.group_text_alpha, border);
      if (ax.axis_label && "axis_label_text_color" in ax) add("axis " + ax.axis_label, ax.axis_label_text_color, ax.axis_label_text_alpha, border);
      if ("title_text_color" in ax && ax.title) add("colorbar title " + ax.title, ax.title_text_color, ax.title_text_alpha, border);
    }
    for (const r of [...m.center, ...m.left, ...m.right, ...m.above, ...m.below]) if ("label_text_color" in r) {
      // a legend: inside the frame over the plot's fill, outside it over the border's
      const c = rgba(r.background_fill_color);
      const under = m.center.includes(r) ? inner : border;
      const lb = c ? over([...c.slice(0, 3), c[3] * r.background_fill_alpha], under) : under;
      add("legend", r.label_text_color, r.label_text_alpha, lb);
      if (r.title) add("legend title " + r.title, r.title_text_color, r.title_text_alpha, lb);
    }
  }
  return {texts, canvas};
}
