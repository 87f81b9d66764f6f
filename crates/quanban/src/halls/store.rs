//! Halls, the items they handle, appointment slots and appointments in the database.

use std::collections::HashMap;

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::reference::data::Hall;
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// Every hall as seeded from the reference data.
pub async fn halls(db: &Db) -> StoreResult<Vec<Hall>> {
    let rows = query("SELECT data FROM halls ORDER BY code").read_all(db).await?;
    rows.iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            serde_json::from_str(&data).map_err(|e| StoreError::Invalid(e.to_string()))
        })
        .collect()
}

/// Departments' districts (`None` for city-wide departments).
pub async fn department_districts(db: &Db) -> StoreResult<HashMap<String, Option<String>>> {
    let rows = query("SELECT code, district FROM departments").read_all(db).await?;
    rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("district")?))).collect()
}

/// Administrators' changes to the default coverage of one item: hall → handles.
pub async fn overrides_for_item(db: &Db, item: &str) -> StoreResult<HashMap<String, bool>> {
    let rows = query("SELECT hall_code, handles FROM hall_items WHERE item_code = $1")
        .bind(item)
        .read_all(db)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("hall_code")?, r.try_get::<i64, _>("handles")? != 0))).collect()
}

/// Administrators' changes for one hall: item → handles.
pub async fn overrides_for_hall(db: &Db, hall: &str) -> StoreResult<HashMap<String, bool>> {
    let rows = query("SELECT item_code, handles FROM hall_items WHERE hall_code = $1")
        .bind(hall)
        .read_all(db)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("item_code")?, r.try_get::<i64, _>("handles")? != 0))).collect()
}

/// Sets whether a hall handles an item (an administrator's decision), audited.
pub async fn set_coverage(
    db: &Db,
    hall: String,
    item: String,
    handles: bool,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            query(
                "INSERT INTO hall_items (hall_code, item_code, handles, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (hall_code, item_code) DO UPDATE SET handles = $3, updated_by = $4, updated_at = $5",
            )
            .bind(&hall)
            .bind(&item)
            .bind(i64::from(handles))
            .bind(&actor)
            .bind(&now)
            .execute(&mut *conn)?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("hall:{hall}"),
                    format!("user:{actor}"),
                    "hall.coverage",
                    format!("hall:{hall}"),
                    format!("{item} {}", if handles { "handled" } else { "not handled" }),
                ),
            )?;
            Ok(())

    })
    .await
}

/// Booked counts of a hall's slots on a day: slot start → booked.
pub async fn booked_on(db: &Db, hall: &str, day: &str) -> StoreResult<HashMap<String, i64>> {
    let rows = query(
        "SELECT slot_start, booked FROM appointment_slots WHERE hall_code = $1 AND slot_start >= $2 AND slot_start < $3",
    )
    .bind(hall)
    .bind(format!("{day}T00:00"))
    .bind(format!("{day}T99"))
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("slot_start")?, r.try_get("booked")?))).collect()
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Appointment {
    pub id: String,
    pub hall_code: String,
    pub hall_name: String,
    pub item_code: String,
    pub item_name: String,
    pub user_id: String,
    pub slot_start: String,
    pub slot_end: String,
    /// `booked`, `cancelled`, `arrived` or `no_show`.
    pub status: String,
    pub created_at: String,
    pub version: i64,
}

const APPOINTMENT_COLUMNS: &str = "a.id, a.hall_code, h.name AS hall_name, a.item_code, \
    COALESCE(c.name, a.item_code) AS item_name, a.user_id, a.slot_start, a.slot_end, a.status, a.created_at, a.version";

fn appointment_from_row(r: &Row) -> StoreResult<Appointment> {
    Ok(Appointment {
        id: r.try_get("id")?,
        hall_code: r.try_get("hall_code")?,
        hall_name: r.try_get("hall_name")?,
        item_code: r.try_get("item_code")?,
        item_name: r.try_get("item_name")?,
        user_id: r.try_get("user_id")?,
        slot_start: r.try_get("slot_start")?,
        slot_end: r.try_get("slot_end")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

pub async fn appointment(db: &Db, id: &str) -> StoreResult<Option<Appointment>> {
    let sql = format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments a JOIN halls h ON h.code = a.hall_code \
         LEFT JOIN catalog_items c ON c.code = a.item_code WHERE a.id = $1"
    );
    query(sql).bind(id).read_optional(db).await?.as_ref().map(appointment_from_row).transpose()
}

pub async fn appointments_of(db: &Db, user: &str) -> StoreResult<Vec<Appointment>> {
    let sql = format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments a JOIN halls h ON h.code = a.hall_code \
         LEFT JOIN catalog_items c ON c.code = a.item_code WHERE a.user_id = $1 ORDER BY a.slot_start DESC LIMIT 100"
    );
    let rows = query(sql).bind(user).read_all(db).await?;
    rows.iter().map(appointment_from_row).collect()
}

/// No-shows of a person since `since`.
pub async fn no_shows_since(db: &Db, user: &str, since: &str) -> StoreResult<i64> {
    Ok(query(
        "SELECT COUNT(*) AS n FROM appointments WHERE user_id = $1 AND status = 'no_show' AND slot_start >= $2",
    )
    .bind(user)
    .bind(since)
    .read_one(db)
    .await?
    .try_get("n")?)
}

/// The most recent no-show's slot, if any.
pub async fn last_no_show(db: &Db, user: &str) -> StoreResult<Option<String>> {
    Ok(query("SELECT MAX(slot_start) AS last FROM appointments WHERE user_id = $1 AND status = 'no_show'")
        .bind(user)
        .read_one(db)
        .await?
        .try_get("last")?)
}

pub struct NewAppointment {
    pub id: String,
    pub hall_code: String,
    pub item_code: String,
    pub user_id: String,
    pub slot_start: String,
    pub slot_end: String,
    pub capacity: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Booking {
    Booked,
    /// Every place in the slot is taken.
    Full,
    /// This person already holds a place in the slot.
    Twice,
}

/// Books a place: a guarded upsert takes one place only while `booked < capacity` (the row lock
/// serialises concurrent bookings of one slot on PostgreSQL; SQLite has one writer), and the
/// appointment's partial unique index refuses the same person twice. Either refusal rolls back
/// the whole booking.
pub async fn book(db: &Db, a: NewAppointment) -> StoreResult<Booking> {
    let now = db.now_text();
    db.write(move |conn| book_in(conn, &now, &a)).await
}

fn book_in(conn: &mut dyn Tx, now: &str, a: &NewAppointment) -> StoreResult<Booking> {
    let already = query(
        "SELECT 1 AS x FROM appointments WHERE user_id = $1 AND hall_code = $2 AND slot_start = $3 AND status = 'booked'",
    )
    .bind(&a.user_id)
    .bind(&a.hall_code)
    .bind(&a.slot_start)
    .fetch_optional(&mut *conn)?;
    if already.is_some() {
        return Ok(Booking::Twice);
    }
    let taken = query(
        "INSERT INTO appointment_slots (hall_code, slot_start, capacity, booked) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (hall_code, slot_start) DO UPDATE SET booked = appointment_slots.booked + 1 \
         WHERE appointment_slots.booked < appointment_slots.capacity RETURNING booked",
    )
    .bind(&a.hall_code)
    .bind(&a.slot_start)
    .bind(a.capacity)
    .fetch_optional(&mut *conn)?;
    if taken.is_none() {
        return Ok(Booking::Full);
    }
    let now = now.to_string();
    let inserted = query(
        "INSERT INTO appointments (id, hall_code, item_code, user_id, slot_start, slot_end, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'booked', $7, $7)",
    )
    .bind(&a.id)
    .bind(&a.hall_code)
    .bind(&a.item_code)
    .bind(&a.user_id)
    .bind(&a.slot_start)
    .bind(&a.slot_end)
    .bind(&now)
    .execute(&mut *conn);
    match inserted {
        Ok(_) => {}
        // A concurrent booking by the same person on PostgreSQL: undo our place.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Duplicate("appointment"));
        }
        Err(e) => return Err(e.into()),
    }
    audit::store::append(
        conn,
        &now,
        NewEntry::new(
            format!("hall:{}", a.hall_code),
            format!("user:{}", a.user_id),
            "appointment.book",
            format!("appointment:{}", a.id),
            format!("{} {} {}", a.item_code, a.hall_code, a.slot_start),
        ),
    )?;
    Ok(Booking::Booked)
}

/// Changes a booked appointment's status (`cancelled`, `arrived`, `no_show`), giving the place
/// back when cancelled. [`StoreError::Conflict`] (nothing written) when it is no longer booked at
/// `version`.
pub async fn finish(
    db: &Db,
    id: String,
    status: &'static str,
    version: i64,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            let row = query(
                "UPDATE appointments SET status = $1, updated_at = $2, version = version + 1 \
                 WHERE id = $3 AND status = 'booked' AND version = $4 RETURNING hall_code, slot_start",
            )
            .bind(status)
            .bind(&now)
            .bind(&id)
            .bind(version)
            .fetch_optional(&mut *conn)?;
            let Some(row) = row else { return Err(StoreError::Conflict) };
            let hall: String = row.try_get("hall_code")?;
            let slot: String = row.try_get("slot_start")?;
            if status == "cancelled" {
                query(
                    "UPDATE appointment_slots SET booked = booked - 1 WHERE hall_code = $1 AND slot_start = $2 AND booked > 0",
                )
                .bind(&hall)
                .bind(&slot)
                .execute(&mut *conn)?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("hall:{hall}"),
                    format!("user:{actor}"),
                    format!("appointment.{status}"),
                    format!("appointment:{id}"),
                    slot,
                ),
            )?;
            Ok(())

    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Queue numbers (取号)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: String,
    pub hall_code: String,
    pub day: String,
    pub group_code: String,
    /// `A001`.
    pub label: String,
    pub appointment_id: Option<String>,
    /// The service chosen when the number was taken (printed on the slip), if any.
    pub item_code: Option<String>,
    /// `waiting`, `called`, `done`, `skipped` (过号: not there when called) or `cancelled` (by
    /// its holder).
    pub status: String,
    pub window_label: Option<String>,
    pub issued_at: String,
    pub called_at: Option<String>,
    /// How many times the window called it again (重呼), and when last.
    pub recalls: i64,
    pub recalled_at: Option<String>,
    /// People waiting before this ticket in its group (when waiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ahead: Option<i64>,
    /// Given once, to whoever took the number (printed on the slip as the rating code): with it,
    /// and only with it or as the signed-in holder, the visit is rated. Never stored in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_secret: Option<String>,
}

const TICKET_COLUMNS: &str = "id, hall_code, day, group_code, label, appointment_id, item_code, status, \
     window_label, issued_at, called_at, recalls, recalled_at";

fn ticket_from_row(r: &Row) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: r.try_get("id")?,
        hall_code: r.try_get("hall_code")?,
        day: r.try_get("day")?,
        group_code: r.try_get("group_code")?,
        label: r.try_get("label")?,
        appointment_id: r.try_get("appointment_id")?,
        item_code: r.try_get("item_code")?,
        status: r.try_get("status")?,
        window_label: r.try_get("window_label")?,
        issued_at: r.try_get("issued_at")?,
        called_at: r.try_get("called_at")?,
        recalls: r.try_get("recalls")?,
        recalled_at: r.try_get("recalled_at")?,
        ahead: None,
        holder_secret: None,
    })
}

pub struct NewTicket {
    pub id: String,
    pub hall_code: String,
    pub day: String,
    pub group_code: String,
    pub appointment_id: Option<String>,
    pub item_code: Option<String>,
    pub user_id: Option<String>,
    /// The SM3 digest (hex) of the holder's secret.
    pub holder_secret_digest: String,
}

/// Issues the next number of the group today; an appointment holder's booking is marked arrived
/// in the same transaction.
pub async fn issue_ticket(db: &Db, t: NewTicket) -> StoreResult<Ticket> {
    let now = db.now_text();
    db.write(move |conn| {

            let number: i64 = query(
                "INSERT INTO queue_counters (hall_code, day, group_code, last) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (hall_code, day, group_code) DO UPDATE SET last = queue_counters.last + 1 RETURNING last",
            )
            .bind(&t.hall_code)
            .bind(&t.day)
            .bind(&t.group_code)
            .fetch_one(&mut *conn)?
            .try_get("last")?;
            let label = format!("{}{number:03}", t.group_code);
            query(
                "INSERT INTO queue_tickets (id, hall_code, day, group_code, number, label, appointment_id, user_id, \
                 status, issued_at, holder_secret, item_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9, $10, $11)",
            )
            .bind(&t.id)
            .bind(&t.hall_code)
            .bind(&t.day)
            .bind(&t.group_code)
            .bind(number)
            .bind(&label)
            .bind(&t.appointment_id)
            .bind(&t.user_id)
            .bind(&now)
            .bind(&t.holder_secret_digest)
            .bind(&t.item_code)
            .execute(&mut *conn)?;
            if let Some(a) = &t.appointment_id {
                let arrived = query(
                    "UPDATE appointments SET status = 'arrived', updated_at = $1, version = version + 1 \
                     WHERE id = $2 AND status = 'booked'",
                )
                .bind(&now)
                .bind(a)
                .execute(&mut *conn)?;
                if arrived.rows_affected() == 0 {
                    return Err(StoreError::Conflict);
                }
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("hall:{}", t.hall_code),
                    t.user_id.as_deref().map(|u| format!("user:{u}")).unwrap_or_else(|| "anonymous".into()),
                    "queue.issue",
                    format!("ticket:{}", t.id),
                    label.clone(),
                ),
            )?;
            let row = query(format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1"))
                .bind(&t.id)
                .fetch_one(&mut *conn)?;
            ticket_from_row(&row)

    })
    .await
}

/// Calls the next waiting ticket of the groups (in the order given, oldest first) to a window.
/// Two clerks calling at once never get the same ticket: the update is guarded by the status.
pub async fn call_next(
    db: &Db,
    hall: String,
    day: String,
    groups: Vec<String>,
    window: String,
    actor: String,
) -> StoreResult<Option<Ticket>> {
    let now = db.now_text();
    db.write(move |conn| {

            // The previous ticket at this window is done.
            query(
                "UPDATE queue_tickets SET status = 'done', finished_at = $4 WHERE hall_code = $1 AND day = $2 \
                 AND window_label = $3 AND status = 'called'",
            )
            .bind(&hall)
            .bind(&day)
            .bind(&window)
            .bind(&now)
            .execute(&mut *conn)?;
            for group in &groups {
                let next = query(
                    "SELECT id FROM queue_tickets WHERE hall_code = $1 AND day = $2 AND group_code = $3 \
                     AND status = 'waiting' ORDER BY number LIMIT 1",
                )
                .bind(&hall)
                .bind(&day)
                .bind(group)
                .fetch_optional(&mut *conn)?;
                let Some(next) = next else { continue };
                let id: String = next.try_get("id")?;
                let called = query(
                    "UPDATE queue_tickets SET status = 'called', window_label = $1, called_at = $2, called_by = $3 \
                     WHERE id = $4 AND status = 'waiting'",
                )
                .bind(&window)
                .bind(&now)
                .bind(&actor)
                .bind(&id)
                .execute(&mut *conn)?;
                if called.rows_affected() == 0 {
                    // Another process called it between our read and update: the caller retries.
                    return Err(StoreError::Conflict);
                }
                audit::store::append(
                    conn,
                    &now,
                    NewEntry::new(format!("hall:{hall}"), format!("user:{actor}"), "queue.call", format!("ticket:{id}"), window.clone()),
                )?;
                let row = query(format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1"))
                    .bind(&id)
                    .fetch_one(&mut *conn)?;
                return Ok(Some(ticket_from_row(&row)?));
            }
            Ok(None)

    })
    .await
}

/// Who may cancel a ticket: its signed-in holder, or whoever has its secret (the slip).
pub struct TicketHolder {
    pub user_id: Option<String>,
    /// `None` for numbers issued before slips carried a secret.
    pub secret_digest: Option<String>,
}

pub async fn ticket_holder(db: &Db, id: &str) -> StoreResult<Option<TicketHolder>> {
    let row = query("SELECT user_id, holder_secret FROM queue_tickets WHERE id = $1")
        .bind(id)
        .read_optional(db)
        .await?;
    row.map(|r| {
        Ok(TicketHolder { user_id: r.try_get("user_id")?, secret_digest: r.try_get("holder_secret")? })
    })
    .transpose()
}

/// Cancels a waiting ticket (its holder leaves the queue). `Conflict` when it is no longer
/// waiting: the status guards the update, so a window calling it at the same moment wins or
/// loses whole.
pub async fn cancel_ticket(db: &Db, id: String, actor: String) -> StoreResult<Ticket> {
    let now = db.now_text();
    db.write(move |conn| {
        let cancelled = query(
            "UPDATE queue_tickets SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND status = 'waiting'",
        )
        .bind(&now)
        .bind(&id)
        .execute(&mut *conn)?;
        if cancelled.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        let row = query(format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1")).bind(&id).fetch_one(&mut *conn)?;
        let ticket = ticket_from_row(&row)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(format!("hall:{}", ticket.hall_code), actor, "queue.cancel", format!("ticket:{id}"), ticket.label.clone()),
        )?;
        Ok(ticket)
    })
    .await
}

/// What a window does with the number it called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowStep {
    /// 重呼: call it again (shown again on the display).
    Recall,
    /// 过号: the holder did not come; the number is passed over.
    Skip,
}

/// Recalls or passes over the ticket `window` has called; `None` when it has none called.
pub async fn window_step(
    db: &Db,
    hall: String,
    day: String,
    window: String,
    step: WindowStep,
    actor: String,
) -> StoreResult<Option<Ticket>> {
    let now = db.now_text();
    db.write(move |conn| {
        let current = query(
            "SELECT id FROM queue_tickets WHERE hall_code = $1 AND day = $2 AND window_label = $3 AND status = 'called' \
             ORDER BY called_at DESC LIMIT 1",
        )
        .bind(&hall)
        .bind(&day)
        .bind(&window)
        .fetch_optional(&mut *conn)?;
        let Some(current) = current else { return Ok(None) };
        let id: String = current.try_get("id")?;
        let (sql, action) = match step {
            WindowStep::Recall => (
                "UPDATE queue_tickets SET recalls = recalls + 1, recalled_at = $1 WHERE id = $2 AND status = 'called'",
                "queue.recall",
            ),
            WindowStep::Skip => (
                "UPDATE queue_tickets SET status = 'skipped', finished_at = $1 WHERE id = $2 AND status = 'called'",
                "queue.skip",
            ),
        };
        if query(sql).bind(&now).bind(&id).execute(&mut *conn)?.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(format!("hall:{hall}"), format!("user:{actor}"), action, format!("ticket:{id}"), window.clone()),
        )?;
        let row = query(format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1")).bind(&id).fetch_one(&mut *conn)?;
        Ok(Some(ticket_from_row(&row)?))
    })
    .await
}

/// The ticket `window` has called now, if any.
pub async fn called_at_window(db: &Db, hall: &str, day: &str, window: &str) -> StoreResult<Option<Ticket>> {
    let row = query(format!(
        "SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE hall_code = $1 AND day = $2 AND window_label = $3 \
         AND status = 'called' ORDER BY called_at DESC LIMIT 1"
    ))
    .bind(hall)
    .bind(day)
    .bind(window)
    .read_optional(db)
    .await?;
    row.as_ref().map(ticket_from_row).transpose()
}

pub async fn ticket(db: &Db, id: &str) -> StoreResult<Option<Ticket>> {
    let row = query(format!("SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut t = ticket_from_row(&row)?;
    if t.status == "waiting" {
        let ahead: i64 = query(
            "SELECT COUNT(*) AS n FROM queue_tickets WHERE hall_code = $1 AND day = $2 AND group_code = $3 \
             AND status = 'waiting' AND number < (SELECT number FROM queue_tickets WHERE id = $4)",
        )
        .bind(&t.hall_code)
        .bind(&t.day)
        .bind(&t.group_code)
        .bind(id)
        .read_one(db)
        .await?
        .try_get("n")?;
        t.ahead = Some(ahead);
    }
    Ok(Some(t))
}

/// The day's tickets of a hall, most recently called first, then waiting in order.
pub async fn tickets_of_day(db: &Db, hall: &str, day: &str) -> StoreResult<Vec<Ticket>> {
    let rows = query(format!(
        "SELECT {TICKET_COLUMNS} FROM queue_tickets WHERE hall_code = $1 AND day = $2 \
         ORDER BY group_code, number"
    ))
    .bind(hall)
    .bind(day)
    .read_all(db)
    .await?;
    rows.iter().map(ticket_from_row).collect()
}

// ---------------------------------------------------------------------------------------------
// Kiosks (自助终端)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Kiosk {
    pub id: String,
    pub hall_code: String,
    pub name: String,
    pub registered_at: String,
    pub last_seen_at: Option<String>,
}

pub async fn register_kiosk(db: &Db, k: Kiosk, token_hash: String, actor: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        query(
            "INSERT INTO kiosks (id, hall_code, name, token_hash, registered_by, registered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.id)
        .bind(&k.hall_code)
        .bind(&k.name)
        .bind(&token_hash)
        .bind(&actor)
        .bind(&k.registered_at)
        .execute(&mut *conn)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("hall:{}", k.hall_code),
                format!("user:{actor}"),
                "kiosk.register",
                format!("kiosk:{}", k.id),
                k.name.clone(),
            ),
        )?;
        Ok(())
    })
    .await
}

pub async fn kiosks(db: &Db) -> StoreResult<Vec<Kiosk>> {
    let rows =
        query("SELECT id, hall_code, name, registered_at, last_seen_at FROM kiosks ORDER BY hall_code, name")
            .read_all(db)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Kiosk {
                id: r.try_get("id")?,
                hall_code: r.try_get("hall_code")?,
                name: r.try_get("name")?,
                registered_at: r.try_get("registered_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .collect()
}

/// Records a heartbeat if the device's token matches; answers whether it did. (Not audited: a
/// heartbeat changes only the device's last-seen time.)
pub async fn heartbeat(db: &Db, id: String, token_hash: String) -> StoreResult<Option<String>> {
    let now = db.now_text();
    db.write(move |conn| {
        Ok(query("UPDATE kiosks SET last_seen_at = $1 WHERE id = $2 AND token_hash = $3 RETURNING hall_code")
            .bind(&now)
            .bind(&id)
            .bind(&token_hash)
            .fetch_optional(&mut *conn)?
            .map(|r| r.try_get("hall_code"))
            .transpose()?)
    })
    .await
}

/// Marks every booked appointment whose slot ended at or before `now` (Beijing, as slots are
/// written) as a no-show (爽约), each claimed at its status so that two sweeps never mark one
/// twice, with the applicant's message and the audit entry. Returns how many it marked.
pub async fn mark_no_shows(db: &Db, now_local: &str) -> StoreResult<usize> {
    let due = query(
        "SELECT a.id, a.user_id, a.hall_code, a.slot_start, a.version, h.name AS hall_name FROM appointments a \
         JOIN halls h ON h.code = a.hall_code WHERE a.status = 'booked' AND a.slot_end <= $1 ORDER BY a.slot_start LIMIT 5000",
    )
    .bind(now_local)
    .read_all(db)
    .await?;
    let mut marked = 0;
    for r in due {
        let id: String = r.try_get("id")?;
        let user: String = r.try_get("user_id")?;
        let hall: String = r.try_get("hall_code")?;
        let hall_name: String = r.try_get("hall_name")?;
        let slot: String = r.try_get("slot_start")?;
        let version: i64 = r.try_get("version")?;
        let now = db.now_text();
        let done = db
            .write(move |conn| {
                let claimed = query(
                    "UPDATE appointments SET status = 'no_show', updated_at = $1, version = version + 1 \
                     WHERE id = $2 AND status = 'booked' AND version = $3",
                )
                .bind(&now)
                .bind(&id)
                .bind(version)
                .execute(&mut *conn)?;
                if claimed.rows_affected() == 0 {
                    return Ok(false);
                }
                let shown = slot.replace('T', " ");
                let m = crate::platform::notifications::Message {
                    title_zh: "预约未到场，已记爽约".into(),
                    title_en: "Missed appointment recorded".into(),
                    body_zh: format!("您预约的{hall_name} {shown} 时段未到场取号，已记为爽约；多次爽约将暂停预约。"),
                    body_en: format!(
                        "You did not arrive for your appointment at {hall_name} at {shown}; it is recorded as missed. Repeated missed appointments pause booking."
                    ),
                };
                crate::platform::notifications::notify(conn, &now, 0, &user, None, &m, None)?;
                audit::store::append(
                    conn,
                    &now,
                    NewEntry::new(
                        format!("hall:{hall}"),
                        "system:monitoring",
                        "appointment.no_show",
                        format!("appointment:{id}"),
                        slot.clone(),
                    ),
                )?;
                Ok(true)
            })
            .await?;
        marked += usize::from(done);
    }
    Ok(marked)
}
