//! JWS signature verification with the platform's WebCrypto (`crypto.subtle`).

use std::cell::RefCell;
use std::collections::HashMap;

use events_core::token::{Alg, Jwk};
use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

thread_local! {
    /// Imported keys, by algorithm and JWK text (importing costs more than verifying).
    static KEYS: RefCell<HashMap<(Alg, String), CryptoKey>> = RefCell::new(HashMap::new());
}

fn subtle() -> Result<SubtleCrypto, JsValue> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    Ok(scope.crypto()?.subtle())
}

fn object(pairs: &[(&str, &str)]) -> Result<Object, JsValue> {
    let o = Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v))?;
    }
    Ok(o)
}

fn import_algorithm(alg: Alg) -> Result<Object, JsValue> {
    match alg {
        Alg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
        Alg::Es256 => object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
    }
}

fn verify_algorithm(alg: Alg) -> Result<Object, JsValue> {
    match alg {
        Alg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5")]),
        Alg::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
    }
}

/// Import a JWK (its JSON text) for one usage (`verify` or `sign`), not extractable.
async fn import_jwk(alg: Alg, jwk_json: &str, usage: &str) -> Result<CryptoKey, JsValue> {
    let jwk_obj: Object = js_sys::JSON::parse(jwk_json)?.unchecked_into();
    let usages = Array::of1(&JsValue::from_str(usage));
    let promise = subtle()?.import_key_with_object(
        "jwk",
        &jwk_obj,
        &import_algorithm(alg)?,
        false,
        &usages,
    )?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

async fn key_for(alg: Alg, jwk: &Jwk) -> Result<CryptoKey, JsValue> {
    let cache_key = (alg, jwk.json.clone());
    if let Some(k) = KEYS.with(|m| m.borrow().get(&cache_key).cloned()) {
        return Ok(k);
    }
    let key = import_jwk(alg, &jwk.json, "verify").await?;
    KEYS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 64 {
            m.clear();
        }
        m.insert(cache_key, key.clone());
    });
    Ok(key)
}

/// True when `signature` over `signing_input` verifies with this key. Any WebCrypto failure
/// (a key that does not import, a malformed signature) counts as "does not verify".
pub async fn verify(alg: Alg, jwk: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool {
    async fn run(alg: Alg, jwk: &Jwk, data: &[u8], sig: &[u8]) -> Result<bool, JsValue> {
        let key = key_for(alg, jwk).await?;
        let promise = subtle()?.verify_with_object_and_u8_array_and_u8_array(
            &verify_algorithm(alg)?,
            &key,
            sig,
            data,
        )?;
        Ok(JsFuture::from(promise).await?.as_bool().unwrap_or(false))
    }
    run(alg, jwk, signing_input, signature)
        .await
        .unwrap_or(false)
}

thread_local! {
    /// Imported private signing keys, by their JWK text (one per isolate in practice).
    static SIGNING_KEYS: RefCell<HashMap<String, CryptoKey>> = RefCell::new(HashMap::new());
}

async fn signing_key_for(alg: Alg, private_jwk: &str) -> Result<CryptoKey, JsValue> {
    if let Some(k) = SIGNING_KEYS.with(|m| m.borrow().get(private_jwk).cloned()) {
        return Ok(k);
    }
    let key = import_jwk(alg, private_jwk, "sign").await?;
    SIGNING_KEYS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 4 {
            m.clear();
        }
        m.insert(private_jwk.to_owned(), key.clone());
    });
    Ok(key)
}

/// The JWS signature of `data` with a private JWK (RS256: PKCS#1 v1.5; ES256: raw `r||s`).
pub async fn sign(alg: Alg, private_jwk: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    async fn run(alg: Alg, private_jwk: &str, data: &[u8]) -> Result<Vec<u8>, JsValue> {
        let key = signing_key_for(alg, private_jwk).await?;
        let promise =
            subtle()?.sign_with_object_and_u8_array(&verify_algorithm(alg)?, &key, data)?;
        let buffer = JsFuture::from(promise).await?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
    run(alg, private_jwk, data)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// HMAC-SHA256 of `data` under a raw key (webhook signatures).
pub async fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    async fn run(key: &[u8], data: &[u8]) -> Result<Vec<u8>, JsValue> {
        let algorithm = object(&[("name", "HMAC"), ("hash", "SHA-256")])?;
        let usages = Array::of1(&JsValue::from_str("sign"));
        let raw = js_sys::Uint8Array::from(key);
        let promise = subtle()?.import_key_with_object("raw", &raw, &algorithm, false, &usages)?;
        let key: CryptoKey = JsFuture::from(promise).await?.unchecked_into();
        let promise = subtle()?.sign_with_object_and_u8_array(&algorithm, &key, data)?;
        let buffer = JsFuture::from(promise).await?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
    run(key, data).await.map_err(|e| format!("{e:?}"))
}
