//! The tasks as the office's spreadsheet: the import's columns first (so an export can be
//! edited and imported elsewhere), then each milestone's status, light, report and review.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, Workbook};

use super::COLUMNS;
use super::service::TaskView;

pub fn xlsx(tasks: &[TaskView], names: &BTreeMap<String, String>) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("改革任务")?;
    let extra = ["状态", "亮灯", "进展情况", "报送时间", "审核意见", "完成日期"];
    for (c, title) in COLUMNS.iter().map(|c| c.0).chain(extra).enumerate() {
        sheet.write_string_with_format(0, c as u16, title, &bold)?;
    }
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let mut row = 1u32;
    for t in tasks {
        for (i, m) in t.task.milestones.iter().enumerate() {
            if i == 0 {
                sheet.write_string(row, 0, &t.task.code)?;
                sheet.write_string(row, 1, &t.task.title)?;
                sheet.write_string(row, 2, &t.area_zh)?;
                sheet.write_string(row, 3, &t.task.description)?;
                sheet.write_string(row, 4, name(&t.task.lead))?;
                sheet.write_string(
                    row,
                    5,
                    t.task.supporting.iter().map(|d| name(d)).collect::<Vec<_>>().join("、"),
                )?;
            }
            sheet.write_string(row, 6, &m.title)?;
            sheet.write_string(row, 7, &m.due_on)?;
            sheet.write_string(row, 8, if m.needs_evidence { "是" } else { "否" })?;
            sheet.write_string(row, 9, m.status.label().0)?;
            let light = match t.lights.get(i).cloned().flatten().as_deref() {
                Some("red") => "红灯（超期）",
                Some("yellow") => "黄灯（临期）",
                _ => "",
            };
            sheet.write_string(row, 10, light)?;
            sheet.write_string(row, 11, m.report.as_deref().unwrap_or(""))?;
            sheet.write_string(
                row,
                12,
                m.reported_at.as_deref().map(crate::platform::clock::shown_time).unwrap_or_default(),
            )?;
            sheet.write_string(row, 13, m.review_comment.as_deref().unwrap_or(""))?;
            sheet.write_string(row, 14, m.accepted_on.as_deref().unwrap_or(""))?;
            row += 1;
        }
    }
    sheet.set_column_width(1, 24)?;
    sheet.set_column_width(6, 30)?;
    Ok(book.save_to_buffer()?)
}
