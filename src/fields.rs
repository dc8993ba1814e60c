//! Reading and writing generated fields without depending on whether the
//! spec calls them required, optional or nullable.
//!
//! typify turns a required property into `T` and an optional or nullable one
//! into `Option<T>` (lists: `Vec<T>` or `Option<Vec<T>>`). A spec release
//! that only makes a property nullable changes that type; handwritten code
//! that goes through these traits compiles either way, so such a release
//! costs a regeneration and nothing else.

/// A generated list field: `Vec<T>` or `Option<Vec<T>>`.
pub(crate) trait List<T> {
    /// The items; none when the field is absent.
    fn items(&self) -> &[T];
    /// The list, created empty when absent.
    fn items_mut(&mut self) -> &mut Vec<T>;
}

impl<T> List<T> for Vec<T> {
    fn items(&self) -> &[T] {
        self
    }
    fn items_mut(&mut self) -> &mut Vec<T> {
        self
    }
}

impl<T> List<T> for Option<Vec<T>> {
    fn items(&self) -> &[T] {
        self.as_deref().unwrap_or_default()
    }
    fn items_mut(&mut self) -> &mut Vec<T> {
        self.get_or_insert_with(Vec::new)
    }
}

/// A generated scalar or object field: `T` or `Option<T>`.
pub(crate) trait Field<T> {
    /// The value, if present.
    fn val(&self) -> Option<&T>;
    /// Sets the value.
    fn put(&mut self, value: T);
}

impl<T> Field<T> for Option<T> {
    fn val(&self) -> Option<&T> {
        self.as_ref()
    }
    fn put(&mut self, value: T) {
        *self = Some(value);
    }
}

macro_rules! plain_field {
    ($($ty:ty),* $(,)?) => {$(
        impl Field<$ty> for $ty {
            fn val(&self) -> Option<&$ty> {
                Some(self)
            }
            fn put(&mut self, value: $ty) {
                *self = value;
            }
        }
    )*};
}

plain_field!(String, i64, bool);
plain_field!(
    crate::generated::types::ResponseMessage,
    crate::generated::types::ToolCallFunction,
);

/// Text of a string field, required or optional.
pub(crate) fn text<F: Field<String>>(field: &F) -> Option<&str> {
    field.val().map(String::as_str)
}

/// A whole number field, required or optional.
pub(crate) fn int<F: Field<i64>>(field: &F) -> Option<i64> {
    field.val().copied()
}
