//! The monthly report (考评月报): the ranking, every department's figures with their formulas,
//! the cases that missed their deadline, the supervision orders of the period, the reform
//! tasks' milestones due by its end and the supervision office's comments of the period, as a
//! spreadsheet (one sheet each, in the layout offices file) and as a PDF.
//!
//! Both are drawn from one [`Report`], read once, so the two files and the page agree.

use anyhow::Context as _;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::service::{Assessment, compute, overdue};
use super::store::OverdueCase;
use super::{Period, Unit};
use crate::app::AppState;
use crate::licences::pdf::ReportPdf;
use crate::monitoring::store::Order;
use crate::platform::clock::{beijing_date, parse_time, shown_time};

/// Everything a report shows, read at one moment.
pub struct Report {
    pub assessment: Assessment,
    pub overdue: Vec<OverdueCase>,
    pub orders: Vec<Order>,
    /// The reform tasks' milestones due by the end of the period, with where each stands.
    pub milestones: Vec<MilestoneLine>,
    /// The supervision office's comments written in the period (督查意见), with the
    /// department's and the indicator's names.
    pub comments: Vec<CommentLine>,
    /// When it was read (Beijing time).
    pub made_at: String,
}

/// A reform milestone as the report lists it.
pub struct MilestoneLine {
    pub task: String,
    pub task_title: String,
    pub lead: String,
    pub seq: i64,
    pub title: String,
    pub due_on: String,
    /// 待报送 pending … 已通过 accepted.
    pub status: String,
    /// 预警, 超期, or empty.
    pub light: String,
    pub accepted_on: String,
}

/// A comment as the report lists it.
pub struct CommentLine {
    pub department: String,
    /// The figure's name; empty: the whole scorecard.
    pub indicator: String,
    pub body: String,
    pub author: String,
    pub written: String,
}

/// Reads the report for `period`.
pub async fn read(state: &AppState, period: Period) -> anyhow::Result<Report> {
    let assessment = compute(state, period).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let overdue = overdue(state, period).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let in_period =
        |at: &str| parse_time(at).map(beijing_date).is_some_and(|d| d >= period.from && d <= period.to);
    let orders = crate::monitoring::store::orders(&state.db, None)
        .await?
        .into_iter()
        .filter(|o| in_period(&o.issued_at))
        .collect();
    let cal = state.calendar().await;
    let today = state.clock().today();
    let names = crate::platform::directory::department_names(&state.db).await?;
    let mut milestones = Vec::new();
    for t in crate::reform::store::list(&state.db).await? {
        for m in &t.milestones {
            let Ok(due) = m.due_on.parse::<chrono::NaiveDate>() else { continue };
            if due > period.to {
                continue;
            }
            let (zh, en) = m.status.label();
            milestones.push(MilestoneLine {
                task: t.code.clone(),
                task_title: t.title.clone(),
                lead: names.get(&t.lead).cloned().unwrap_or_else(|| t.lead.clone()),
                seq: m.seq,
                title: m.title.clone(),
                due_on: m.due_on.clone(),
                status: format!("{zh} {en}"),
                light: crate::reform::light(m.status, due, &cal, today, state.config.yellow_days)
                    .map(|l| format!("{} {}", l.label_zh(), l.label_en()))
                    .unwrap_or_default(),
                accepted_on: m.accepted_on.clone().unwrap_or_default(),
            });
        }
    }
    let comments = super::store::comments_written(&state.db, period.from, period.to)
        .await?
        .into_iter()
        .map(|c| CommentLine {
            department: names.get(&c.department).cloned().unwrap_or_else(|| c.department.clone()),
            indicator: c
                .indicator
                .as_deref()
                .and_then(super::Indicator::parse)
                .map(|i| format!("{} {}", i.wording().name_zh, i.wording().name_en))
                .unwrap_or_default(),
            body: c.body,
            author: c.author_name,
            written: c.created_at,
        })
        .collect();
    Ok(Report {
        assessment,
        overdue,
        orders,
        milestones,
        comments,
        made_at: shown_time(&crate::platform::clock::time_text(state.clock().now())),
    })
}

pub fn title(period: &Period) -> String {
    format!("政务服务部门考评报告（{}）", period.label())
}

/// A figure's value as the pages show it: a percentage, or working days.
pub fn shown_value(unit: Unit, v: Option<f64>) -> String {
    match (unit, v) {
        (_, None) => "—".into(),
        (Unit::Days, Some(v)) => format!("{v:.2}"),
        (_, Some(v)) => format!("{:.2}%", v * 100.0),
    }
}

fn score_text(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into())
}

fn order_level(o: &Order) -> &str {
    if o.status == "open" { "未办结 open" } else { "已办结 closed" }
}

/// The report as an .xlsx workbook.
pub fn xlsx(r: &Report) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.00%");
    let a = &r.assessment;

    let sheet = book.add_worksheet().set_name("排名 Ranking")?;
    sheet.write_string_with_format(0, 0, title(&a.period), &bold)?;
    sheet.write_string(1, 0, format!("生成时间 made at: {}", r.made_at))?;
    let mut head =
        vec!["名次 Rank".to_string(), "部门编码 Code".into(), "部门 Department".into(), "得分 Score".into()];
    head.extend(a.indicators.iter().map(|i| format!("{} {}", i.name_zh, i.name_en)));
    header(sheet, 3, &head, &bold)?;
    for (n, card) in a.scorecards.iter().enumerate() {
        let row = 4 + n as u32;
        match card.rank {
            Some(rank) => sheet.write_number(row, 0, rank as f64)?,
            None => sheet.write_string(row, 0, "—")?,
        };
        sheet.write_string(row, 1, &card.department)?;
        sheet.write_string(row, 2, &card.department_name)?;
        match card.score {
            Some(s) => sheet.write_number(row, 3, s)?,
            None => sheet.write_string(row, 3, "—")?,
        };
        for (c, f) in card.figures.iter().enumerate() {
            let col = 4 + c as u16;
            match (f.value, f.indicator.unit()) {
                (None, _) => sheet.write_string(row, col, "—")?,
                (Some(v), Unit::Days) => sheet.write_number(row, col, v)?,
                (Some(v), _) => sheet.write_number_with_format(row, col, v, &percent)?,
            };
        }
    }
    sheet.set_column_width(2, 24)?;

    let sheet = book.add_worksheet().set_name("指标明细 Figures")?;
    header(
        sheet,
        0,
        &[
            "部门编码 Code",
            "部门 Department",
            "指标 Indicator",
            "指标名称 Name",
            "分子 Numerator",
            "分母 Denominator",
            "比率 Value",
            "得分 Score",
            "权重 Weight",
        ]
        .map(String::from),
        &bold,
    )?;
    let mut row = 1;
    for card in &a.scorecards {
        for f in &card.figures {
            let w = f.indicator.wording();
            sheet.write_string(row, 0, &card.department)?;
            sheet.write_string(row, 1, &card.department_name)?;
            sheet.write_string(row, 2, f.indicator.code())?;
            sheet.write_string(row, 3, w.name_zh)?;
            sheet.write_number(row, 4, f.numerator as f64)?;
            sheet.write_number(row, 5, f.denominator as f64)?;
            match f.value {
                Some(v) if f.indicator.unit() == Unit::Days => sheet.write_number(row, 6, v)?,
                Some(v) => sheet.write_number_with_format(row, 6, v, &percent)?,
                None => sheet.write_string(row, 6, "—")?,
            };
            match f.score {
                Some(s) => sheet.write_number(row, 7, s)?,
                None => sheet.write_string(row, 7, "—")?,
            };
            sheet.write_number(row, 8, f.weight)?;
            row += 1;
        }
    }

    let sheet = book.add_worksheet().set_name("指标说明 Indicators")?;
    header(
        sheet,
        0,
        &["指标 Indicator", "名称", "Name", "数据来源 Area", "权重 Weight", "计算方法", "Formula"]
            .map(String::from),
        &bold,
    )?;
    for (n, i) in a.indicators.iter().enumerate() {
        let row = 1 + n as u32;
        sheet.write_string(row, 0, i.code.code())?;
        sheet.write_string(row, 1, &i.name_zh)?;
        sheet.write_string(row, 2, &i.name_en)?;
        sheet.write_string(row, 3, format!("{} {}", i.area_zh, i.area_en))?;
        sheet.write_number(row, 4, i.weight)?;
        sheet.write_string(row, 5, &i.formula_zh)?;
        sheet.write_string(row, 6, &i.formula_en)?;
    }

    let sheet = book.add_worksheet().set_name("超期清单 Overdue")?;
    header(
        sheet,
        0,
        &["办件编号 Case", "事项 Title", "部门 Department", "办理期限 Due", "办结时间 Decided", "状态 State"]
            .map(String::from),
        &bold,
    )?;
    for (n, c) in r.overdue.iter().enumerate() {
        let row = 1 + n as u32;
        sheet.write_string(row, 0, &c.number)?;
        sheet.write_string(row, 1, &c.title)?;
        sheet.write_string(row, 2, &c.department)?;
        sheet.write_string(row, 3, &c.due_on)?;
        sheet.write_string(row, 4, c.decided_at.as_deref().unwrap_or("未办结 open"))?;
        sheet.write_string(row, 5, &c.state)?;
    }

    let sheet = book.add_worksheet().set_name("督办单 Orders")?;
    header(
        sheet,
        0,
        &[
            "督办单号 Number",
            "部门 Department",
            "事由 Subject",
            "签发 Issued",
            "整改期限 Rectify by",
            "状态 Status",
            "整改情况 Rectification",
        ]
        .map(String::from),
        &bold,
    )?;
    for (n, o) in r.orders.iter().enumerate() {
        let row = 1 + n as u32;
        sheet.write_string(row, 0, &o.number)?;
        sheet.write_string(row, 1, &o.department)?;
        sheet.write_string(row, 2, &o.title)?;
        sheet.write_string(row, 3, shown_time(&o.issued_at))?;
        sheet.write_string(row, 4, &o.rectify_by)?;
        sheet.write_string(row, 5, order_level(o))?;
        sheet.write_string(row, 6, o.rectification.as_deref().unwrap_or(""))?;
    }
    let sheet = book.add_worksheet().set_name("改革任务 Reform tasks")?;
    header(
        sheet,
        0,
        &[
            "任务编号 Task",
            "改革任务 Title",
            "牵头单位 Lead",
            "节点 Milestone",
            "节点任务 Milestone title",
            "完成时限 Due",
            "状态 Status",
            "亮灯 Light",
            "完成日期 Accepted on",
        ]
        .map(String::from),
        &bold,
    )?;
    for (n, m) in r.milestones.iter().enumerate() {
        let row = 1 + n as u32;
        sheet.write_string(row, 0, &m.task)?;
        sheet.write_string(row, 1, &m.task_title)?;
        sheet.write_string(row, 2, &m.lead)?;
        sheet.write_number(row, 3, m.seq as f64)?;
        sheet.write_string(row, 4, &m.title)?;
        sheet.write_string(row, 5, &m.due_on)?;
        sheet.write_string(row, 6, &m.status)?;
        sheet.write_string(row, 7, &m.light)?;
        sheet.write_string(row, 8, &m.accepted_on)?;
    }
    let sheet = book.add_worksheet().set_name("督查意见 Comments")?;
    header(
        sheet,
        0,
        &["部门 Department", "指标 Figure", "督查意见 Comment", "提出人 By", "时间 Written"]
            .map(String::from),
        &bold,
    )?;
    for (n, c) in r.comments.iter().enumerate() {
        let row = 1 + n as u32;
        sheet.write_string(row, 0, &c.department)?;
        sheet.write_string(
            row,
            1,
            if c.indicator.is_empty() { "整体 Whole scorecard" } else { &c.indicator },
        )?;
        sheet.write_string(row, 2, &c.body)?;
        sheet.write_string(row, 3, &c.author)?;
        sheet.write_string(row, 4, &c.written)?;
    }
    book.save_to_buffer().context("writing the report workbook")
}

fn header(sheet: &mut Worksheet, row: u32, titles: &[String], bold: &Format) -> anyhow::Result<()> {
    for (c, t) in titles.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, t, bold)?;
    }
    Ok(())
}

/// The report as a PDF: the ranking, each department's figures, the overdue cases, the orders.
pub fn pdf(r: &Report) -> Vec<u8> {
    let a = &r.assessment;
    let mut doc = ReportPdf::default();
    doc.title(&title(&a.period));
    doc.paragraph(9.0, &format!("生成时间：{}。各项指标均由平台办件、评价、诉求、数据共享与政策兑现记录自动计算，计算方法见第三部分。", r.made_at));
    doc.heading("一、部门排名");
    doc.table(
        &[0.0, 40.0, 210.0, 270.0, 340.0, 410.0],
        &["名次", "部门", "得分", "按时办结率", "好评率", "诉求满意率"],
    );
    for card in &a.scorecards {
        let value = |i| card.figure(i).map(|f| shown_value(i.unit(), f.value)).unwrap_or_default();
        doc.row(&[
            card.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            card.department_name.clone(),
            score_text(card.score),
            value(super::Indicator::OnTime),
            value(super::Indicator::GoodRate),
            value(super::Indicator::ComplaintSatisfaction),
        ]);
    }
    doc.heading("二、各部门指标");
    for card in a.scorecards.iter().filter(|c| c.score.is_some()) {
        doc.paragraph(10.0, &format!("{}（得分 {}）", card.department_name, score_text(card.score)));
        doc.table(
            &[0.0, 150.0, 230.0, 310.0, 390.0, 450.0],
            &["指标", "分子", "分母", "比率", "得分", "权重"],
        );
        for f in card.figures.iter().filter(|f| f.denominator > 0) {
            doc.row(&[
                f.indicator.wording().name_zh.to_string(),
                f.numerator.to_string(),
                f.denominator.to_string(),
                shown_value(f.indicator.unit(), f.value),
                score_text(f.score),
                format!("{}", f.weight),
            ]);
        }
    }
    doc.heading("三、计算方法");
    for i in &a.indicators {
        doc.paragraph(8.5, &format!("{}（权重 {}）：{}", i.name_zh, i.weight, i.formula_zh));
    }
    doc.heading(&format!("四、超期办件（{} 件）", r.overdue.len()));
    doc.table(&[0.0, 110.0, 300.0, 400.0], &["办件编号", "事项", "办理期限", "办结时间"]);
    for c in &r.overdue {
        doc.row(&[
            c.number.clone(),
            c.title.clone(),
            c.due_on.clone(),
            c.decided_at.clone().unwrap_or_else(|| "未办结".into()),
        ]);
    }
    doc.heading(&format!("五、督办单（{} 份）", r.orders.len()));
    doc.table(&[0.0, 150.0, 330.0, 420.0], &["督办单号", "事由", "整改期限", "状态"]);
    for o in &r.orders {
        doc.row(&[
            o.number.clone(),
            o.title.clone(),
            o.rectify_by.clone(),
            if o.status == "open" { "未办结".into() } else { "已办结".into() },
        ]);
    }
    doc.heading(&format!("六、改革任务节点（{} 个）", r.milestones.len()));
    doc.table(&[0.0, 60.0, 250.0, 330.0, 400.0], &["任务", "节点任务", "完成时限", "状态", "亮灯"]);
    for m in &r.milestones {
        doc.row(&[
            format!("{}#{}", m.task, m.seq),
            m.title.clone(),
            m.due_on.clone(),
            m.status.split(' ').next().unwrap_or_default().to_string(),
            m.light.split(' ').next().unwrap_or_default().to_string(),
        ]);
    }
    doc.heading(&format!("七、督查意见（{} 条）", r.comments.len()));
    for c in &r.comments {
        let about = c.indicator.split(' ').next().filter(|s| !s.is_empty()).unwrap_or("整体");
        doc.paragraph(9.0, &format!("{}（{}）：{}——{} {}", c.department, about, c.body, c.author, c.written));
    }
    doc.finish()
}
