//! The code of a struct's subsections: each sent after the fields when its
//! `needed` function says so (and its gate property, if any, is on), and
//! the load's loop that reads whichever subsections follow.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;
use crate::vmstate::model::{FieldModel, VmStateModel};

/// The pieces the struct's subsections contribute, one of each per
/// subsection (`const_checks`: one or two), in field order.
#[derive(Default)]
pub(super) struct SubsectionsCode {
    /// Their `VmStateDescription`s.
    pub descs: Vec<TokenStream>,
    /// Their `Needed` entries: the `needed` function and gate, by name.
    pub needs: Vec<TokenStream>,
    pub saves: Vec<TokenStream>,
    /// Each an `if` on the incoming subsection's name, inside the load's
    /// loop over subsections.
    pub loads: Vec<TokenStream>,
    pub layouts: Vec<TokenStream>,
    /// Const checks, after the impl: a gate is a bool property of the
    /// device type (`check_gate`); a subsection's name is one QEMU's load
    /// can read back, not taken by an earlier one (`check_subsection`).
    pub const_checks: Vec<TokenStream>,
}

impl SubsectionsCode {
    /// Add field `f` of struct `m`, a subsection sent when `needed_fn`
    /// says so and, with a `gate`, only while that property is on.
    pub fn push(
        &mut self,
        m: &VmStateModel,
        f: &FieldModel,
        needed_fn: &syn::Path,
        gate: Option<&syn::LitStr>,
    ) {
        let p = private();
        let ident = m.ident;
        let (member, ty, wire) = (f.member, f.ty, &f.wire);
        let vs = quote_spanned!(ty.span()=> <#ty as __compat::VMState>);
        let index = self.descs.len();
        let function = needed_fn
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::");
        // With a gate, the subsection is sent only while the property
        // is on, whatever `needed` says: what makes it provable. The
        // property is looked up by name, so only once `needed` holds.
        // Located at the gate, resolved where the derive is: a gate
        // from a `macro_rules!` parameter carries that macro's
        // hygiene, in which this method's `self` does not exist.
        let gate_span = gate.map_or(ident.span(), |g| {
            proc_macro2::Span::call_site().located_at(g.span())
        });
        let gated_ty = syn::Ident::new(&ident.to_string(), gate_span);
        let (gate_on, gate_desc) = match gate {
            // Every use of `Device` is spanned on the gate, so that a
            // type that is not a device gets one error, there.
            Some(g) => (
                quote_spanned! {gate_span=>
                    ::core::matches!(
                        <#gated_ty as __compat::Device>::property_value(self, #g),
                        ::core::option::Option::Some(__compat::PropertyValue::Bool(true))
                    )
                },
                quote!(::core::option::Option::Some(#g)),
            ),
            None => (quote!(true), quote!(::core::option::Option::None)),
        };
        self.needs
            .push(quote!(#p::Needed { function: #function, gate: #gate_desc }));
        if let Some(g) = gate {
            self.const_checks.push(quote_spanned!(gate_span=>
                const _: () = __compat::check_gate(
                    <#gated_ty as __compat::Device>::TYPE,
                    #g,
                );
            ));
        }
        self.const_checks.push(quote_spanned!(ty.span()=>
            const _: () = __compat::check_subsection(
                <#ident as __compat::VMState>::DESCRIPTION,
                #index,
            );
        ));
        self.descs.push(quote!(#vs::DESCRIPTION));
        self.saves.push(quote! {
            if (w.every_subsection() || #needed_fn(self)) && #gate_on {
                w.put_subsection_header(#vs::DESCRIPTION.name, #vs::DESCRIPTION.version_id);
                #vs::save_state(&mut self.#member, w)?;
            }
        });
        self.loads.push(quote! {
            if sub == #vs::DESCRIPTION.name {
                #vs::load_state(&mut self.#member, r, sub_version)
                    .map_err(|e| e.in_field(#wire))?;
                continue;
            }
        });
        self.layouts.push(quote! {
            if #needed_fn(self) && #gate_on {
                layout.subsections.push(#vs::layout(&self.#member));
            }
        });
    }

    /// The end of struct `name`'s load: a loop over the subsections that
    /// follow, or, with none to read, the refusal of any.
    pub fn load_loop(&self, name: &str) -> TokenStream {
        let p = private();
        let loads = &self.loads;
        if loads.is_empty() {
            quote! {
                if let ::core::option::Option::Some((sub, _, at)) = #p::next_subsection(r, #name)? {
                    return ::core::result::Result::Err(#p::unknown_subsection(sub, #name, at));
                }
            }
        } else {
            quote! {
                while let ::core::option::Option::Some((sub, sub_version, at)) =
                    #p::next_subsection(r, #name)?
                {
                    #(#loads)*
                    return ::core::result::Result::Err(#p::unknown_subsection(sub, #name, at));
                }
            }
        }
    }
}
