//! Interview planning.

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, QueryOrder, QuerySelect,
    prelude::*,
};

use super::{audit::Actor, entity::interview, writer::Unit};
use crate::domain::{
    fields::FieldError,
    interview::{InterviewKind, InterviewStatus},
};

/// Everything an interview says, checked by the caller.
#[derive(Clone, Debug)]
pub struct InterviewPlan {
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub kind: InterviewKind,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    pub interviewers: Vec<String>,
    pub status: InterviewStatus,
    pub feedback: Option<String>,
}

impl InterviewPlan {
    /// The plan a stored interview holds, its times in the offset they were given in.
    pub fn of(model: &interview::Model) -> Self {
        let offset = FixedOffset::east_opt(model.utc_offset_minutes * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
        Self {
            starts_at: model.starts_at.with_timezone(&offset),
            ends_at: model.ends_at.with_timezone(&offset),
            kind: model.kind,
            location: model.location.clone(),
            meeting_url: model.meeting_url.clone(),
            interviewers: serde_json::from_value(model.interviewers.clone()).unwrap_or_default(),
            status: model.status,
            feedback: model.feedback.clone(),
        }
    }

    fn apply(self, active: &mut interview::ActiveModel) {
        active.starts_at = Set(self.starts_at.with_timezone(&Utc));
        active.ends_at = Set(self.ends_at.with_timezone(&Utc));
        active.utc_offset_minutes = Set(self.starts_at.offset().local_minus_utc() / 60);
        active.kind = Set(self.kind);
        active.location = Set(self.location);
        active.meeting_url = Set(self.meeting_url);
        active.interviewers = Set(serde_json::Value::from(self.interviewers));
        active.status = Set(self.status);
        active.feedback = Set(self.feedback);
    }
}

/// An application's interviews in the order they take place.
pub async fn list(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<interview::Model>, DbErr> {
    interview::Entity::find()
        .filter(interview::Column::ApplicationId.eq(application_id))
        .order_by_asc(interview::Column::StartsAt)
        .order_by_asc(interview::Column::Id)
        .all(db)
        .await
}

/// One interview of this application.
pub async fn find(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    interview_id: Uuid,
) -> Result<Option<interview::Model>, DbErr> {
    interview::Entity::find_by_id(interview_id)
        .filter(interview::Column::ApplicationId.eq(application_id))
        .one(db)
        .await
}

/// One interview of this application, locked for a change on PostgreSQL
/// (SQLite has one writer).
async fn find_for_update(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    interview_id: Uuid,
) -> Result<Option<interview::Model>, DbErr> {
    interview::Entity::find_by_id(interview_id)
        .filter(interview::Column::ApplicationId.eq(application_id))
        .lock_exclusive()
        .one(db)
        .await
}

async fn insert(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    plan: InterviewPlan,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<interview::Model, DbErr> {
    let mut active = interview::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        api_key_id: Set(actor.api_key_id),
        actor: Set(actor.on_behalf_of.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        sequence: Set(0),
        ..Default::default()
    };
    plan.apply(&mut active);
    active.insert(db).await
}

/// Replaces the plan of `current`, bumping its sequence so that calendars
/// holding the earlier invitation take the new one.
async fn update(
    db: &impl ConnectionTrait,
    current: interview::Model,
    plan: InterviewPlan,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<interview::Model, DbErr> {
    let sequence = current.sequence + 1;
    let mut active: interview::ActiveModel = current.into();
    plan.apply(&mut active);
    active.sequence = Set(sequence);
    active.updated_at = Set(now);
    active.update(db).await
}

/// A new interview with its audit event; `None` when the application is gone.
pub struct CreateInterview {
    pub application_id: Uuid,
    pub plan: InterviewPlan,
    pub actor: Actor,
}

impl Unit for CreateInterview {
    type Output = Option<interview::Model>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<interview::Model>, DbErr> {
        if super::applications::find(txn, self.application_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let interview = insert(
            txn,
            self.application_id,
            self.plan.clone(),
            &self.actor,
            now,
        )
        .await?;
        super::audit::record(
            txn,
            now,
            &self.actor,
            "interview.created",
            Some(self.application_id),
            Some(interview.id),
        )
        .await?;
        Ok(Some(interview))
    }
}

/// A change to an interview: its stored plan is read, merged (by `merge`,
/// which also checks it) and written in one transaction, the row locked on
/// PostgreSQL, so concurrent changes do not undo each other. `None` when
/// there is no such interview; the merge's refusal as it gave it.
pub struct UpdateInterview<M> {
    pub application_id: Uuid,
    pub interview_id: Uuid,
    pub merge: M,
    pub actor: Actor,
}

impl<M> Unit for UpdateInterview<M>
where
    M: Fn(InterviewPlan) -> Result<InterviewPlan, FieldError> + Send + Sync + 'static,
{
    type Output = Option<Result<interview::Model, FieldError>>;

    async fn run(
        &self,
        txn: &DatabaseTransaction,
        now: DateTimeUtc,
    ) -> Result<Option<Result<interview::Model, FieldError>>, DbErr> {
        let Some(current) = find_for_update(txn, self.application_id, self.interview_id).await?
        else {
            return Ok(None);
        };
        let plan = match (self.merge)(InterviewPlan::of(&current)) {
            Ok(plan) => plan,
            Err(invalid) => return Ok(Some(Err(invalid))),
        };
        let updated = update(txn, current, plan, now).await?;
        super::audit::record(
            txn,
            now,
            &self.actor,
            "interview.updated",
            Some(self.application_id),
            Some(self.interview_id),
        )
        .await?;
        Ok(Some(Ok(updated)))
    }
}
