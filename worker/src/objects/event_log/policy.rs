//! The resource's rule document for the built-in PDP (spec §11): kept by the resource's
//! `EventLog`, read by its own decisions and, through `GET /policy`, by other objects'.

use events_core::authz::builtin::ResourcePolicy;
use events_core::urn::{self, ResourceUrn};
use serde::Deserialize;
use worker::{Request, Response};

use super::store::corrupt;
use super::EventLog;
use crate::authz::LocalPolicies;
use crate::error::Error;
use crate::objects::reply_json;

/// The header of a `PUT /policy` answer: whether a document was replaced.
pub const EXISTED_HEADER: &str = "x-existed";

impl EventLog {
    pub(super) fn policy(&self) -> Result<Option<ResourcePolicy>, Error> {
        #[derive(Deserialize)]
        struct Row {
            doc: String,
        }
        if let Some(p) = self.policy.borrow().as_ref() {
            return Ok(p.clone());
        }
        let rows: Vec<Row> = self.rows("SELECT doc FROM policy WHERE k = 1", vec![])?;
        let doc = match rows.into_iter().next() {
            Some(r) => Some(
                ResourcePolicy::parse(r.doc.as_bytes())
                    .map_err(|e| corrupt(format!("policy: {e:?}")))?,
            ),
            None => None,
        };
        *self.policy.borrow_mut() = Some(doc.clone());
        Ok(doc)
    }

    /// The rule document of the log's resource, for a decision about `resource` (`None`: a
    /// decision about no resource, which needs none).
    pub(super) fn local_policies(
        &self,
        resource: Option<&ResourceUrn>,
    ) -> Result<LocalPolicies, Error> {
        let mut local = LocalPolicies::new();
        if let Some(id) = resource.and_then(|r| urn::resource_id(r.as_str())) {
            local.insert(id.to_owned(), self.policy()?);
        }
        Ok(local)
    }

    pub(super) async fn put_policy(&self, req: &mut Request) -> Result<Response, Error> {
        let bytes = req
            .bytes()
            .await
            .map_err(|e| Error::platform("Could not read an internal request", e))?;
        // The route checked the document (core's parser, a 400 for the client); here it can
        // only fail if the worker sent something else.
        let doc = ResourcePolicy::parse(&bytes)
            .map_err(|e| Error::platform("Malformed internal request", e))?;
        let existed = self.policy()?.is_some();
        self.exec(
            "INSERT INTO policy (k, doc) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET doc = excluded.doc",
            vec![doc.to_json().into()],
        )?;
        *self.policy.borrow_mut() = Some(Some(doc.clone()));
        // Whether it replaced one is the caller's to turn into a status.
        let mut resp = reply_json(&doc)?;
        resp.headers_mut()
            .set(EXISTED_HEADER, if existed { "true" } else { "false" })
            .map_err(|e| Error::platform("Could not answer", e))?;
        Ok(resp)
    }

    pub(super) fn delete_policy(&self) -> Result<Response, Error> {
        if self.policy()?.is_none() {
            return Err(Error::NotFound);
        }
        self.exec("DELETE FROM policy WHERE k = 1", vec![])?;
        *self.policy.borrow_mut() = Some(None);
        reply_json(&serde_json::json!({"deleted": true}))
    }
}
