//! Construction projects (工程建设项目): the national four-stage approval, each stage applied for
//! as one bundle whose parts go to their departments in parallel, with a clock per stage and one
//! for the whole project; and joint reviews (联合审图、联合验收), where one case is decided only
//! after every member department has given its opinion.
//!
//! Everything here is pure: the service reads the project, its stage cases and the opinions,
//! and these functions say what the project looks like and what a change may do.

pub mod flow;
pub mod joint;

pub use flow::{
    Flow, JointMember, JointReview, NewProject, ProjectClock, ProjectFlows, Stage, StageCase, StageProgress,
    StageRefusal, StageStatus, flows, next_stage, progress, project_code,
};
pub use joint::{JointOpinion, JointRefusal, Opinion, OpinionChange, decide_opinion, joint_blockers};
