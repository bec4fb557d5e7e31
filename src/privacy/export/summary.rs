//! `summary.html`: what the archive holds, for a person, in their language.
//! One self-contained page (inline style, no script, nothing fetched), so
//! it opens from the unpacked folder in any browser; it links the files.

use std::fmt::Write;

use super::data::{Application, DataExport, Document};
use crate::{
    domain::{lang::Lang, sniff::DocumentKind},
    pages::escape,
};

/// The page's words in one language.
struct Words {
    title: &'static str,
    /// Followed by the date.
    made_on: &'static str,
    contents: &'static str,
    this_page: &'static str,
    data_json: &'static str,
    files: &'static str,
    applications: &'static str,
    status: &'static str,
    applied_on: &'static str,
    decided_on: &'static str,
    deleted_on: &'static str,
    /// The term for `held`.
    deletion: &'static str,
    held: &'static str,
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    notes: &'static str,
    interviews: &'static str,
    messages: &'static str,
    status_changes: &'static str,
    consents: &'static str,
    documents: &'static str,
    cv: &'static str,
    picture: &'static str,
}

const EN: Words = Words {
    title: "Your data",
    made_on: "A copy of the data we hold about you, made on",
    contents: "What this archive holds",
    this_page: "this overview",
    data_json: "all of the data, machine-readable (JSON)",
    files: "the files you sent us, unchanged",
    applications: "Your applications",
    status: "Status",
    applied_on: "Applied on",
    decided_on: "Decided on",
    deleted_on: "To be deleted on",
    deletion: "Deletion",
    held: "Kept for legal reasons for now",
    name: "Name",
    email: "Email",
    phone: "Phone",
    notes: "Recruiters' notes",
    interviews: "Interviews",
    messages: "Emails",
    status_changes: "Status changes",
    consents: "Consents",
    documents: "Files",
    cv: "CV",
    picture: "Picture",
};

const NL: Words = Words {
    title: "Uw gegevens",
    made_on: "Een kopie van de gegevens die wij over u bewaren, gemaakt op",
    contents: "Wat dit archief bevat",
    this_page: "dit overzicht",
    data_json: "alle gegevens in machineleesbare vorm (JSON)",
    files: "de bestanden die u ons stuurde, ongewijzigd",
    applications: "Uw sollicitaties",
    status: "Status",
    applied_on: "Gesolliciteerd op",
    decided_on: "Besluit op",
    deleted_on: "Wordt verwijderd op",
    deletion: "Verwijdering",
    held: "Wordt om juridische redenen voorlopig bewaard",
    name: "Naam",
    email: "E-mail",
    phone: "Telefoon",
    notes: "Notities van recruiters",
    interviews: "Gesprekken",
    messages: "E-mails",
    status_changes: "Statuswijzigingen",
    consents: "Toestemmingen",
    documents: "Bestanden",
    cv: "Cv",
    picture: "Foto",
};

const FR: Words = Words {
    title: "Vos données",
    made_on: "Une copie des données que nous conservons à votre sujet, établie le",
    contents: "Contenu de cette archive",
    this_page: "cette vue d'ensemble",
    data_json: "toutes les données, lisibles par machine (JSON)",
    files: "les fichiers que vous nous avez envoyés, tels quels",
    applications: "Vos candidatures",
    status: "Statut",
    applied_on: "Candidature envoyée le",
    decided_on: "Décision le",
    deleted_on: "Suppression prévue le",
    deletion: "Suppression",
    held: "Conservée pour l'instant pour des raisons juridiques",
    name: "Nom",
    email: "E-mail",
    phone: "Téléphone",
    notes: "Notes des recruteurs",
    interviews: "Entretiens",
    messages: "E-mails",
    status_changes: "Changements de statut",
    consents: "Consentements",
    documents: "Fichiers",
    cv: "CV",
    picture: "Photo",
};

const DE: Words = Words {
    title: "Ihre Daten",
    made_on: "Eine Kopie der Daten, die wir über Sie gespeichert haben, erstellt am",
    contents: "Inhalt dieses Archivs",
    this_page: "diese Übersicht",
    data_json: "alle Daten in maschinenlesbarer Form (JSON)",
    files: "die Dateien, die Sie uns geschickt haben, unverändert",
    applications: "Ihre Bewerbungen",
    status: "Status",
    applied_on: "Beworben am",
    decided_on: "Entschieden am",
    deleted_on: "Wird gelöscht am",
    deletion: "Löschung",
    held: "Wird vorerst aus rechtlichen Gründen aufbewahrt",
    name: "Name",
    email: "E-Mail",
    phone: "Telefon",
    notes: "Notizen der Personalabteilung",
    interviews: "Vorstellungsgespräche",
    messages: "E-Mails",
    status_changes: "Statusänderungen",
    consents: "Einwilligungen",
    documents: "Dateien",
    cv: "Lebenslauf",
    picture: "Foto",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Nl => &NL,
        Lang::Fr => &FR,
        Lang::De => &DE,
    }
}

pub fn render(data: &DataExport, lang: Lang) -> String {
    let w = words(lang);
    let files: usize = data.applications.iter().map(|a| a.documents.len()).sum();
    let mut body = format!(
        "<h1>{title}</h1><p>{made_on} {date}.</p><h2>{contents}</h2><ul>\
         <li><code>summary.html</code>: {this_page}</li>\
         <li><code>data.json</code>: {data_json}</li>\
         <li><code>files/</code>: {files_text} ({files})</li></ul><h2>{applications}</h2>",
        title = w.title,
        made_on = w.made_on,
        date = lang.date(data.exported_at),
        contents = w.contents,
        this_page = w.this_page,
        data_json = w.data_json,
        files_text = w.files,
        applications = w.applications,
    );
    for application in &data.applications {
        application_section(&mut body, application, lang);
    }
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}}\
         section{{border-top:1px solid #ccc;margin-top:1.5rem}}\
         dl{{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}}dt{{font-weight:600}}dd{{margin:0}}\
         </style></head><body>{body}</body></html>",
        lang = lang.as_str(),
        title = w.title,
    )
}

fn application_section(out: &mut String, application: &Application, lang: Lang) {
    let w = words(lang);
    let row = |out: &mut String, term: &str, value: &str| {
        let _ = write!(out, "<dt>{term}</dt><dd>{value}</dd>");
    };
    let _ = write!(
        out,
        "<section><h3>{} ({})</h3><dl>",
        escape(&application.job.title),
        escape(&application.job.country)
    );
    row(out, w.status, lang.status(application.status));
    row(out, w.applied_on, &lang.date(application.submitted_at));
    if let Some(decided_at) = application.decided_at {
        row(out, w.decided_on, &lang.date(decided_at));
    }
    if application.retention.held {
        row(out, w.deletion, w.held);
    } else if let Some(delete_after) = application.retention.delete_after {
        row(out, w.deleted_on, &lang.date(delete_after));
    }
    if let Some(hold) = &application.retention.legal_hold {
        let t = crate::pages::text::Texts::of(lang);
        row(out, t.hold_kind, t.hold_kind_of(hold.category));
        if let Some(reason) = &hold.reason {
            row(out, t.hold_reason, &escape(reason));
        }
    }
    let contact = &application.contact;
    row(out, w.name, &escape(&contact.full_name));
    row(out, w.email, &escape(&contact.email));
    if let Some(phone) = &contact.phone {
        row(out, w.phone, &escape(phone));
    }
    for (term, count) in [
        (w.status_changes, application.status_history.len()),
        (w.notes, application.notes.len()),
        (w.interviews, application.interviews.len()),
        (w.messages, application.messages.len()),
        (w.consents, application.consents.len()),
    ] {
        row(out, term, &count.to_string());
    }
    out.push_str("</dl>");
    if !application.documents.is_empty() {
        let _ = write!(out, "<h4>{}</h4><ul>", w.documents);
        for document in &application.documents {
            document_item(out, document, w);
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

fn document_item(out: &mut String, document: &Document, w: &Words) {
    let kind = match document.kind {
        DocumentKind::Cv => w.cv,
        DocumentKind::Picture => w.picture,
    };
    let _ = write!(
        out,
        "<li><a href=\"{path}\">{kind}</a> ({media_type}, {kb} kB)</li>",
        path = escape(&document.path),
        media_type = escape(&document.media_type),
        kb = document.size.div_ceil(1000),
    );
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::status::ApplicationStatus,
        privacy::export::data::{Contact, Job, RetentionView},
    };

    fn application(held: bool) -> Application {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap();
        Application {
            id: Uuid::nil(),
            job: Job {
                id: Uuid::nil(),
                title: "R&D <engineer>".into(),
                country: "NL".into(),
            },
            status: ApplicationStatus::Rejected,
            submitted_at: at,
            updated_at: at,
            decided_at: Some(at),
            contact: Contact {
                full_name: "Ada <script>alert(1)</script>".into(),
                email: "ada@example.com".into(),
                phone: None,
                linkedin_url: None,
                indeed_url: None,
            },
            cover_letter: None,
            source: None,
            provenance: None,
            privacy_notice_version: "2026-01".into(),
            talent_pool_consent: false,
            retention: RetentionView {
                delete_after: Some(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap()),
                rule: None,
                held,
                legal_hold: None,
            },
            consents: vec![],
            status_history: vec![],
            notes: vec![],
            interviews: vec![],
            messages: vec![],
            documents: vec![Document {
                id: Uuid::nil(),
                kind: DocumentKind::Picture,
                media_type: "image/png".into(),
                size: 1500,
                sha256: String::new(),
                uploaded_at: at,
                path: "files/a/b-picture.png".into(),
            }],
        }
    }

    fn export(applications: Vec<Application>) -> DataExport {
        DataExport {
            format_version: 1,
            exported_at: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
            candidate: crate::privacy::export::data::Candidate {
                id: Uuid::nil(),
                email_normalised: "ada@example.com".into(),
                known_since: Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap(),
            },
            applications,
        }
    }

    #[test]
    fn the_page_is_in_the_candidates_language_with_their_text_escaped() {
        let data = export(vec![application(false)]);
        for (lang, words) in [
            (
                Lang::En,
                [
                    "Not selected",
                    "4 March 2026",
                    "1 September 2026",
                    "Picture",
                ],
            ),
            (
                Lang::Nl,
                [
                    "Niet geselecteerd",
                    "4 maart 2026",
                    "1 september 2026",
                    "Foto",
                ],
            ),
            (
                Lang::Fr,
                ["Non retenue", "4 mars 2026", "1 septembre 2026", "Photo"],
            ),
            (
                Lang::De,
                [
                    "Nicht ausgewählt",
                    "4. März 2026",
                    "1. September 2026",
                    "Foto",
                ],
            ),
        ] {
            let html = render(&data, lang);
            assert!(html.starts_with(&format!("<!doctype html><html lang=\"{lang}\">")));
            for word in words {
                assert!(html.contains(word), "{lang}: {word}");
            }
            assert!(html.contains("Ada &lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(html.contains("R&amp;D &lt;engineer&gt; (NL)"));
            assert!(!html.contains("<script") && !html.contains("<engineer"));
            assert!(html.contains("<a href=\"files/a/b-picture.png\">"));
            assert!(html.contains("(image/png, 2 kB)"));
        }
    }

    #[test]
    fn a_held_application_shows_no_deletion_date() {
        let html = render(&export(vec![application(true)]), Lang::En);
        assert!(html.contains("<dt>Deletion</dt><dd>Kept for legal reasons for now</dd>"));
        assert!(!html.contains("1 September 2026"));
    }
}
