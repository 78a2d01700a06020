// The page script of amqpjs's HTML report: builds the tables and the uPlot
// charts from the JSON in #report-data. When done it sets, on <html>,
// data-report="rendered" (or "error", with data-report-errors), data-charts
// (charts drawn) and data-render-ms (time spent here); tests read them.
(function () {
	"use strict";
	var root = document.documentElement;
	var errors = [];
	function fail(msg) {
		errors.push(String(msg));
		root.setAttribute("data-report", "error");
		root.setAttribute("data-report-errors", errors.join(" | "));
	}
	window.addEventListener("error", function (e) { fail(e.message || e); });
	window.addEventListener("unhandledrejection", function (e) { fail(e.reason); });

	var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31"];
	var plots = [];

	function el(tag, attrs, children) {
		var e = document.createElement(tag);
		if (attrs) {
			for (var k in attrs) {
				if (k === "text") e.textContent = attrs[k];
				else if (k === "cls") e.className = attrs[k];
				else e.setAttribute(k, attrs[k]);
			}
		}
		(children || []).forEach(function (c) { if (c) e.appendChild(c); });
		return e;
	}

	function trim(v, digits) {
		var s = v.toFixed(digits);
		if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
		return s;
	}
	function short(v) {
		var a = Math.abs(v);
		if (a >= 1e9) return trim(v / 1e9, 2) + "G";
		if (a >= 1e6) return trim(v / 1e6, 2) + "M";
		if (a >= 1e4) return trim(v / 1e3, 1) + "k";
		if (a >= 100) return trim(v, 0);
		if (a >= 1) return trim(v, 2);
		return trim(v, 3);
	}
	function fmt(v, unit) {
		if (v == null || isNaN(v)) return "—";
		switch (unit) {
		case "ms":
			if (Math.abs(v) >= 1000) return trim(v / 1000, 2) + " s";
			if (Math.abs(v) >= 100) return trim(v, 0) + " ms";
			return trim(v, Math.abs(v) >= 1 ? 2 : 3) + " ms";
		case "%":
			return trim(v, 2) + "%";
		case "B/s":
		case "B":
			var units = ["B", "kB", "MB", "GB", "TB"], i = 0;
			while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
			return trim(v, 1) + " " + units[i] + (unit === "B/s" ? "/s" : "");
		case "":
			return short(v);
		default:
			return short(v) + (unit.charAt(0) === "/" ? unit : " " + unit);
		}
	}

	function table(head, rows, cls) {
		var thead = el("thead", null, [el("tr", null, head.map(function (h) { return el("th", { text: h }); }))]);
		var tbody = el("tbody", null, rows);
		return el("table", { cls: cls || "" }, [thead, tbody]);
	}

	function header(page) {
		var main = document.getElementById("report");
		var badge = el("span", { cls: "badge " + (page.failed ? "fail" : "pass"), text: page.thresholds && page.thresholds.length ? (page.failed ? "thresholds failed" : "thresholds passed") : "no thresholds" });
		main.appendChild(el("h1", null, [document.createTextNode(page.title + " "), badge]));
		var dl = el("dl", { cls: "info" });
		(page.info || []).forEach(function (kv) {
			dl.appendChild(el("dt", { text: kv[0] }));
			dl.appendChild(el("dd", { text: kv[1] }));
		});
		main.appendChild(dl);
		(page.notes || []).forEach(function (n) { main.appendChild(el("p", { cls: "note", text: n })); });
		if (page.config) {
			main.appendChild(el("details", null, [el("summary", { text: "Configuration" }), el("pre", { text: page.config })]));
		}
		var nav = el("nav");
		var links = [["#thresholds", "Thresholds"], ["#summary", "Summary"]];
		(page.sections || []).forEach(function (s) { links.push(["#" + s.id, s.title]); });
		if ((page.events || []).length) links.push(["#events", "Events"]);
		links.forEach(function (l) { nav.appendChild(el("a", { href: l[0], text: l[1] })); });
		main.appendChild(nav);
	}

	function thresholds(page) {
		var main = document.getElementById("report");
		var sec = el("section", { id: "thresholds" }, [el("h2", { text: "Thresholds" })]);
		if (!page.thresholds || !page.thresholds.length) {
			sec.appendChild(el("p", { cls: "note", text: "The run declared no threshold, or the results do not record them." }));
		} else {
			var rows = page.thresholds.map(function (t) {
				var where = t.chart ? el("a", { href: "#" + t.chart, text: "on its chart" }) : el("span", { cls: "muted", text: t.why || "" });
				return el("tr", { cls: t.ok ? "pass" : "fail" }, [
					el("td", { cls: "mark", text: t.ok ? "✓" : "✗" }), el("td", { text: t.selector }), el("td", { text: t.source }),
					el("td", { cls: "num", text: t.value }), el("td", null, [where])]);
			});
			sec.appendChild(table(["", "metric", "threshold", "value", "chart"], rows, "thresholds"));
		}
		main.appendChild(sec);
	}

	function summary(page) {
		var main = document.getElementById("report");
		var sec = el("section", { id: "summary" }, [el("h2", { text: "Summary" })]);
		var rows = (page.summary || []).map(function (r) {
			return el("tr", { cls: r.sub ? "sub" : "" }, [el("td", { cls: "name", text: r.name })].concat(r.cells.map(function (c) { return el("td", { cls: "num", text: c }); })));
		});
		if (rows.length) sec.appendChild(table(["metric"].concat(page.head || []), rows, "summary"));
		else sec.appendChild(el("p", { cls: "note", text: "No summary." }));
		main.appendChild(sec);
	}

	function chartWidth(box) {
		return Math.max(280, Math.floor(box.clientWidth) - 2);
	}

	function chart(page, c, box) {
		var unit = c.unit;
		var series = [{}];
		var data = [page.x];
		var color = 0;
		c.lines.forEach(function (l) {
			var s = { label: l.label, width: 1.5, points: { show: false }, value: function (u, v) { return fmt(v, unit); } };
			if (l.threshold) {
				s.stroke = l.ok ? "#2ca02c" : "#d62728";
				s.dash = [8, 5];
				s.width = 2;
				var v = l["const"] || 0;
				data.push(page.x.map(function () { return v; }));
			} else {
				s.stroke = palette[color++ % palette.length];
				// Samples in few intervals (RPCs at the start of a run) are
				// dots, not lines.
				var seen = 0;
				l.values.forEach(function (v) { if (v != null) seen++; });
				if (seen * 4 < l.values.length || seen < 3) s.points = { show: true, size: 6, fill: s.stroke };
				data.push(l.values);
			}
			series.push(s);
		});
		// A threshold far above the data would flatten it: then the y axis
		// is logarithmic (asinh: zero stays drawable).
		var dataMax = 0, thrMax = 0;
		c.lines.forEach(function (l) {
			if (l.threshold) thrMax = Math.max(thrMax, l["const"] || 0);
			else l.values.forEach(function (v) { if (v != null && v > dataMax) dataMax = v; });
		});
		var y = {}, yAxis = { size: 72, values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : fmt(v, unit); }); } };
		if (dataMax > 0 && thrMax > 5 * dataMax) {
			var lin = Math.pow(10, Math.floor(Math.log10(dataMax / 10)));
			y = { distr: 4, log: 10, asinh: lin, range: function (u, min, max) { return [0, max * 1.3]; } };
			yAxis.splits = function (u) {
				var out = [0];
				for (var p = lin; p <= u.scales.y.max; p *= 10) out.push(p);
				return out;
			};
			box.setAttribute("data-scale", "log");
			box.previousSibling.textContent += " — log scale";
		}
		var opts = {
			width: chartWidth(box),
			height: 240,
			scales: { x: { time: true }, y: y },
			series: series,
			axes: [{}, yAxis],
			cursor: { sync: { key: "amqpjs" } },
			legend: { live: true },
			hooks: { draw: [function (u) { markEvents(page, u); }] }
		};
		var u = new uPlot(opts, data, box);
		plots.push([u, box]);
		return u;
	}

	// markEvents draws each event of the run (an injected fault) as a
	// dashed vertical line with its name.
	function markEvents(page, u) {
		var evs = page.events || [];
		if (!evs.length) return;
		var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
		ctx.save();
		ctx.strokeStyle = "#9467bd";
		ctx.fillStyle = "#9467bd";
		ctx.lineWidth = px;
		ctx.setLineDash([4 * px, 3 * px]);
		ctx.font = (10 * px) + "px sans-serif";
		ctx.textAlign = "left";
		ctx.textBaseline = "top";
		evs.forEach(function (e, i) {
			var x = Math.round(u.valToPos(e.t, "x", true));
			if (x < b.left || x > b.left + b.width) return;
			ctx.beginPath();
			ctx.moveTo(x, b.top);
			ctx.lineTo(x, b.top + b.height);
			ctx.stroke();
			// On the chart the fault and its target ("cut producers"); the
			// events table has the rest.
			var short = e.label.replace(/^fault\./, "").split(" ").slice(0, 2).join(" ");
			ctx.fillText(short, x + 3 * px, b.top + (2 + 11 * (i % 4)) * px);
		});
		ctx.restore();
	}

	function events(page) {
		var evs = page.events || [];
		if (!evs.length) return;
		var rows = evs.map(function (e) {
			return el("tr", null, [el("td", { cls: "num", text: trim(e.elapsed, 3) + " s" }), el("td", { text: e.label })]);
		});
		var sec = el("section", { id: "events" }, [el("h2", { text: "Events" }), el("p", { cls: "note", text: "Faults injected by the script (amqpjs/faults), marked on the charts; time since the run's start." }), table(["time", "event"], rows)]);
		document.getElementById("report").appendChild(sec);
	}

	function sections(page) {
		var main = document.getElementById("report");
		var n = 0;
		(page.sections || []).forEach(function (s) {
			var sec = el("section", { id: s.id, cls: "charts" }, [el("h2", { text: s.title })]);
			var grid = el("div", { cls: "grid" });
			sec.appendChild(grid);
			main.appendChild(sec);
			s.charts.forEach(function (c) {
				var box = el("div", { cls: "chart", id: c.id, "data-chart": c.id });
				var h = el("h3", { text: c.title + (c.unit ? " (" + c.unit + ")" : "") });
				var wrap = el("div", { cls: "chart-box" }, [h, box]);
				grid.appendChild(wrap);
				chart(page, c, box);
				n++;
			});
			if (!s.charts.length) sec.appendChild(el("p", { cls: "note", text: "No samples." }));
		});
		return n;
	}

	var t0 = performance.now();
	try {
		if (typeof uPlot !== "function") throw new Error("the uPlot library did not load");
		var page = JSON.parse(document.getElementById("report-data").textContent);
		header(page);
		thresholds(page);
		summary(page);
		var n = sections(page);
		events(page);
		root.setAttribute("data-charts", String(n));
		var pending = 0;
		window.addEventListener("resize", function () {
			clearTimeout(pending);
			pending = setTimeout(function () {
				plots.forEach(function (p) { p[0].setSize({ width: chartWidth(p[1]), height: 240 }); });
			}, 100);
		});
		if (!errors.length) root.setAttribute("data-report", "rendered");
	} catch (e) {
		fail(e && e.stack ? e.stack : e);
		var pre = el("pre", { cls: "fatal", text: "The report could not be drawn: " + e });
		document.body.insertBefore(pre, document.body.firstChild);
	}
	root.setAttribute("data-render-ms", String(Math.round(performance.now() - t0)));
	root.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
