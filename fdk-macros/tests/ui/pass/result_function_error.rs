// `Result<_, FunctionError>`: `?` converts any std error.

use fdk::FunctionError;

#[fdk::handler]
fn double(text: String) -> Result<String, FunctionError> {
    let n: u64 = text.trim().parse()?;
    if n > u64::MAX / 2 {
        return Err(FunctionError::msg("too big to double"));
    }
    Ok((n * 2).to_string())
}
