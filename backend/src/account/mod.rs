//! The account's data as the person owns it: deleting the account with a receipt, exporting
//! everything, and importing history from Chatkeep, ChatGPT and Claude.

pub mod deletion;
pub mod export;
pub mod guests;
pub mod import;
pub mod slots;
pub mod storage;
pub mod transfer;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(deletion::delete_me)
        .service(export::export_me)
        .service(export::export_conversation)
        .service(import::import_me);
}
