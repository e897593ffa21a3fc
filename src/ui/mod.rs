//! Building blocks shared by the pages: the console layout, navigation, charts, time display.
//! (Formatting of money, URLs and dates is in [`crate::model::format`], below the pages.)

pub mod chart;
pub mod confirm;
pub mod copy;
pub mod enhance;
pub mod error;
pub mod filters;
pub mod guard;
pub mod islands;
pub mod layout;
pub mod nav;
pub mod resource;
pub mod status;
pub mod theme;
pub mod time;
pub mod toast;
