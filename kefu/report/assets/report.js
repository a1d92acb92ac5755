/* kefu report: draws the charts from the embedded figures and makes tables sortable.
   Every chart container gets data-rendered="<number of SVG shapes>" once drawn;
   <body data-charts-rendered> counts the drawn charts (used by the browser test). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("kefu-report-data").textContent);
  var PASS = "#1a7f37", MISS = "#cf222e", MATURE = "rgba(154,103,0,0.12)";
  var charts = [];
  var pct = function (v) { return v == null ? "–" : (v * 100).toFixed(1) + "%"; };
  var sec = function (v) { return v == null ? "–" : v.toFixed(1) + " s"; };
  var cny = function (v) { return v == null ? "–" : "¥" + Number(v).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2}); };
  // The page's font stack, so that ECharts measures legend text with the font it draws.
  var FONT = getComputedStyle(document.body).fontFamily;
  var base = { animation: false, textStyle: { fontFamily: FONT }, grid: { left: 60, right: 60, top: 50, bottom: 40 },
               tooltip: { trigger: "axis" }, legend: { top: 4 } };

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.on("finished", function () {
      el.setAttribute("data-rendered", String(el.querySelectorAll("svg path, svg rect, svg text").length));
      var drawn = document.querySelectorAll(".chart[data-rendered]").length;
      document.body.setAttribute("data-charts-rendered", String(drawn));
    });
    chart.setOption(Object.assign({}, base, option));
    charts.push(chart);
  }
  function targetLine(metric, label, position) {
    var t = data.targets[metric];
    if (!t) { return []; }
    return [{ yAxis: t.value, name: label, label: { position: position || "insideEndTop", formatter: label + " " + t.comparator + " " + (metric.slice(-2) === "_s" ? t.value + " s" : pct(t.value)) } }];
  }
  var days = data.trend.map(function (d) { return d.date; });
  var col = function (rows, key) { return rows.map(function (d) { return d[key]; }); };
  var maturing = data.trend.filter(function (d) { return d.has_data && d.is_final === false; });
  var maturingArea = maturing.length ? [[{ xAxis: maturing[0].date, name: "未定 maturing", itemStyle: { color: MATURE } }, { xAxis: maturing[maturing.length - 1].date }]] : [];

  // Daily trend: rates with the reply-rate target, response times with theirs.
  draw("chart-trend-rates", {
    title: { text: "回复率 Reply rates", left: "right", textStyle: { fontSize: 13 } },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: pct } },
    tooltip: { trigger: "axis", valueFormatter: pct },
    series: [
      { name: "回复率 Reply rate", type: "line", data: col(data.trend, "reply_rate"), connectNulls: false,
        markLine: { symbol: "none", lineStyle: { type: "dashed", color: MISS }, data: targetLine("reply_rate", "回复率目标") } },
      { name: "3分钟回复率 3-min rate", type: "line", data: col(data.trend, "reply_3min_rate") },
      { name: "好评率 Good rate", type: "line", data: col(data.trend, "good_rate"),
        markLine: { symbol: "none", lineStyle: { type: "dotted", color: "#8250df" }, data: targetLine("good_rate", "好评目标", "insideStartBottom") } }
    ]
  });
  draw("chart-trend-times", {
    title: { text: "响应时间 Response times", left: "right", textStyle: { fontSize: 13 } },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", name: "s" },
    tooltip: { trigger: "axis", valueFormatter: sec },
    series: [
      { name: "首次响应 First response", type: "line", data: col(data.trend, "avg_first_response_s"),
        markLine: { symbol: "none", lineStyle: { type: "dashed" }, data: targetLine("avg_first_response_s", "首响目标") } },
      { name: "平均响应 Average response", type: "line", data: col(data.trend, "avg_response_s"),
        markLine: { symbol: "none", lineStyle: { type: "dashed" }, data: targetLine("avg_response_s", "平响目标") } }
    ]
  });

  // Waits: bars on a value axis so that the 3-minute line sits on the bin edge.
  var w = data.waits;
  draw("chart-waits", {
    title: { text: "≤3 min " + w.within_sla_cnt.toLocaleString() + " · >10 min " + w.over_10min_cnt.toLocaleString() +
             " · >30 min " + w.late_cnt.toLocaleString() + " · 未回复 unreplied " + w.unreplied_cnt.toLocaleString() +
             " / " + w.round_cnt.toLocaleString() + " rounds", left: "right", textStyle: { fontSize: 12, fontWeight: "normal" } },
    tooltip: { trigger: "item", formatter: function (p) { return p.data[2] + "–" + p.data[3] + " s: " + p.data[1].toLocaleString(); } },
    xAxis: { type: "value", min: 0, max: w.bins.length * w.bin_s, interval: 60, name: "s" },
    yAxis: { type: "value", name: "rounds 轮次" }, legend: { show: false },
    series: [{ name: "rounds", type: "bar", barWidth: "95%", barCategoryGap: 0,
      data: w.bins.map(function (b) { return { value: [(b[0] + b[1]) / 2, b[2], b[0], b[1]], itemStyle: { color: b[1] <= w.sla_s ? "#4e79a7" : "#e15759" } }; }),
      markLine: { symbol: "none", lineStyle: { color: MISS, width: 2 }, label: { formatter: "3 min" }, data: [{ xAxis: w.sla_s }] } }]
  });

  // Load heatmap: hour × day.
  var h = data.heatmap;
  draw("chart-load", {
    tooltip: { trigger: "item", formatter: function (p) { return h.dates[p.data[1]] + " " + p.data[0] + ":00 — " + p.data[2] + " buyers 买家"; } },
    grid: { left: 90, right: 30, top: 10, bottom: 100 }, legend: { show: false },
    xAxis: { type: "category", data: Array.from({ length: 24 }, function (_, i) { return String(i); }), name: "时 hour",
             nameLocation: "middle", nameGap: 26, splitArea: { show: true } },
    yAxis: { type: "category", data: h.dates, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: Math.max(h.max, 1), calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 160,
                 inRange: { color: ["#f7fbff", "#6baed6", "#08306b"] } },
    series: [{ name: "买家 buyers", type: "heatmap", data: h.cells }]
  });

  // Funnel of the period, then the daily stages with the maturing days shaded.
  draw("chart-funnel", {
    tooltip: { trigger: "item" }, legend: { show: false },
    series: [{ type: "funnel", sort: "none", left: "15%", width: "70%", minSize: "8%", gap: 2,
      label: { formatter: function (p) { return p.name + "  " + p.value.toLocaleString(); } },
      data: data.funnel.map(function (s) { return { name: s.zh + " " + s.en, value: s.value }; }) }]
  });
  draw("chart-funnel-daily", {
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", name: "buyers 人" },
    series: data.funnel.slice(1).map(function (s, i) {
      var series = { name: s.zh + " " + s.en, type: "bar", data: col(data.trend, s.key) };
      if (i === 0) { series.markArea = { silent: true, label: { position: "insideTop", color: "#9a6700" }, data: maturingArea }; }
      return series;
    })
  });

  // Silent vs served sales, and their AOV.
  draw("chart-sales", {
    xAxis: { type: "category", data: days },
    yAxis: [{ type: "value", name: "CNY 销售额" }, { type: "value", name: "客单价 AOV" }],
    tooltip: { trigger: "axis", valueFormatter: cny },
    series: [
      { name: "客服销售额 CS sales", type: "bar", stack: "sales", data: col(data.trend, "cs_sales_amt") },
      { name: "静默销售额 Silent sales", type: "bar", stack: "sales", data: col(data.trend, "silent_sales_amt") },
      { name: "询单客单价 CS AOV", type: "line", yAxisIndex: 1, data: col(data.trend, "cs_aov") },
      { name: "静默客单价 Silent AOV", type: "line", yAxisIndex: 1, data: col(data.trend, "silent_aov") }
    ]
  });

  if (data.platform.available) {
    var rows = data.platform.rows;
    draw("chart-platform", {
      xAxis: { type: "category", data: rows.map(function (r) { return r.preset; }) },
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: pct } },
      tooltip: { trigger: "axis", valueFormatter: pct },
      series: [
        { name: "考核回复率 SLA reply rate", type: "bar", itemStyle: { color: "#4e79a7" }, data: rows.map(function (r) {
            return { value: r.sla_reply_rate, itemStyle: { color: r.is_passing === false ? MISS : (r.is_passing ? PASS : "#4e79a7") } }; }) },
        { name: "合格线 Pass mark", type: "scatter", symbol: "rect", symbolSize: [40, 3], itemStyle: { color: "#000" },
          data: rows.map(function (r) { return r.pass_rate; }) }
      ]
    });
  }
  if (data.topics.available) {
    var t = data.topics.rows;
    draw("chart-topics", {
      xAxis: { type: "category", data: t.map(function (r) { return r.topic; }) },
      yAxis: [{ type: "value", name: "接待 receptions" }, { type: "value", min: 0, max: 1, axisLabel: { formatter: pct } }],
      series: [
        { name: "接待数 Receptions", type: "bar", data: t.map(function (r) { return r.reception_cnt; }) },
        { name: "转化率 Conversion", type: "line", yAxisIndex: 1, data: t.map(function (r) { return r.inq_to_pay_rate_final; }), tooltip: { valueFormatter: pct } },
        { name: "好评率 Good rate", type: "line", yAxisIndex: 1, data: t.map(function (r) { return r.good_rate; }), tooltip: { valueFormatter: pct } }
      ]
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });

  // Sortable tables: click a header; numbers sort as numbers, empty cells last.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, index) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        table.querySelectorAll("th").forEach(function (o) { o.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index].getAttribute("data-v"), y = b.cells[index].getAttribute("data-v");
          if (x === "" || x === null) { return 1; }
          if (y === "" || y === null) { return -1; }
          var nx = Number(x), ny = Number(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, "zh-CN");
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
