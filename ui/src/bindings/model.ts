// Generated from outpost-core by `cargo test` (ui_model.rs): do not edit.

import type { AuthSpec } from './AuthSpec';
import type { FieldSpec } from './FieldSpec';
import type { Interception } from './Interception';
import type { KindSpec } from './KindSpec';
import type { Range } from './Range';
import type { SecretRule } from './SecretRule';
import type { SecretSpec } from './SecretSpec';

/** Every customer field, in form order. */
export const FIELDS: readonly FieldSpec[] = [
  {
    "hint": "Ada",
    "label": "First name",
    "max_len": 100,
    "name": "first_name",
    "names_customer": true,
    "search": "name",
    "type": "text"
  },
  {
    "hint": "Lovelace",
    "label": "Last name",
    "max_len": 100,
    "name": "last_name",
    "names_customer": true,
    "search": "name",
    "type": "text"
  },
  {
    "hint": "Analytical Engines Ltd",
    "label": "Company",
    "max_len": 200,
    "name": "company",
    "names_customer": true,
    "search": "name",
    "type": "text"
  },
  {
    "hint": "ada@example.com",
    "label": "Email",
    "max_len": 254,
    "name": "email",
    "names_customer": false,
    "search": "contact",
    "type": "email"
  },
  {
    "hint": "+49 30 1234567",
    "label": "Phone",
    "max_len": 32,
    "name": "phone",
    "names_customer": false,
    "search": "contact",
    "type": "phone"
  },
  {
    "hint": "12 Main Street",
    "label": "Street",
    "max_len": 200,
    "name": "street",
    "names_customer": false,
    "search": null,
    "type": "text"
  },
  {
    "hint": "10115",
    "label": "Postal code",
    "max_len": 20,
    "name": "postal_code",
    "names_customer": false,
    "search": null,
    "type": "text"
  },
  {
    "hint": "Berlin",
    "label": "City",
    "max_len": 100,
    "name": "city",
    "names_customer": false,
    "search": "place",
    "type": "text"
  },
  {
    "hint": "DE",
    "label": "Country",
    "max_len": 200,
    "name": "country",
    "names_customer": false,
    "search": null,
    "type": "country"
  },
  {
    "hint": "DE123456789",
    "label": "Tax ID",
    "max_len": 32,
    "name": "tax_id",
    "names_customer": false,
    "search": null,
    "type": "text"
  },
  {
    "hint": "Prefers email",
    "label": "Notes",
    "max_len": 2000,
    "name": "notes",
    "names_customer": false,
    "search": null,
    "type": "multiline"
  }
];

/** ISO 3166-1 alpha-2 codes with English names, by code. */
export const COUNTRIES: readonly { readonly code: string; readonly name: string }[] = [
  {
    "code": "AD",
    "name": "Andorra"
  },
  {
    "code": "AE",
    "name": "The United Arab Emirates"
  },
  {
    "code": "AF",
    "name": "Afghanistan"
  },
  {
    "code": "AG",
    "name": "Antigua And Barbuda"
  },
  {
    "code": "AI",
    "name": "Anguilla"
  },
  {
    "code": "AL",
    "name": "Albania"
  },
  {
    "code": "AM",
    "name": "Armenia"
  },
  {
    "code": "AO",
    "name": "Angola"
  },
  {
    "code": "AQ",
    "name": "Antarctica"
  },
  {
    "code": "AR",
    "name": "Argentina"
  },
  {
    "code": "AS",
    "name": "American Samoa"
  },
  {
    "code": "AT",
    "name": "Austria"
  },
  {
    "code": "AU",
    "name": "Australia"
  },
  {
    "code": "AW",
    "name": "Aruba"
  },
  {
    "code": "AX",
    "name": "Aland Islands"
  },
  {
    "code": "AZ",
    "name": "Azerbaijan"
  },
  {
    "code": "BA",
    "name": "Bosnia And Herzegovina"
  },
  {
    "code": "BB",
    "name": "Barbados"
  },
  {
    "code": "BD",
    "name": "Bangladesh"
  },
  {
    "code": "BE",
    "name": "Belgium"
  },
  {
    "code": "BF",
    "name": "Burkina Faso"
  },
  {
    "code": "BG",
    "name": "Bulgaria"
  },
  {
    "code": "BH",
    "name": "Bahrain"
  },
  {
    "code": "BI",
    "name": "Burundi"
  },
  {
    "code": "BJ",
    "name": "Benin"
  },
  {
    "code": "BL",
    "name": "Saint Barthelemy"
  },
  {
    "code": "BM",
    "name": "Bermuda"
  },
  {
    "code": "BN",
    "name": "Brunei Darussalam"
  },
  {
    "code": "BO",
    "name": "Bolivia"
  },
  {
    "code": "BQ",
    "name": "Bonaire"
  },
  {
    "code": "BR",
    "name": "Brazil"
  },
  {
    "code": "BS",
    "name": "The Bahamas"
  },
  {
    "code": "BT",
    "name": "Bhutan"
  },
  {
    "code": "BV",
    "name": "Bouvet Island"
  },
  {
    "code": "BW",
    "name": "Botswana"
  },
  {
    "code": "BY",
    "name": "Belarus"
  },
  {
    "code": "BZ",
    "name": "Belize"
  },
  {
    "code": "CA",
    "name": "Canada"
  },
  {
    "code": "CC",
    "name": "The Cocos Keeling Islands"
  },
  {
    "code": "CD",
    "name": "The Democratic Republic Of The Congo"
  },
  {
    "code": "CF",
    "name": "The Central African Republic"
  },
  {
    "code": "CG",
    "name": "The Congo"
  },
  {
    "code": "CH",
    "name": "Switzerland"
  },
  {
    "code": "CI",
    "name": "Coted Ivoire"
  },
  {
    "code": "CK",
    "name": "The Cook Islands"
  },
  {
    "code": "CL",
    "name": "Chile"
  },
  {
    "code": "CM",
    "name": "Cameroon"
  },
  {
    "code": "CN",
    "name": "China"
  },
  {
    "code": "CO",
    "name": "Colombia"
  },
  {
    "code": "CR",
    "name": "Costa Rica"
  },
  {
    "code": "CU",
    "name": "Cuba"
  },
  {
    "code": "CV",
    "name": "Cabo Verde"
  },
  {
    "code": "CW",
    "name": "Curacao"
  },
  {
    "code": "CX",
    "name": "Christmas Island"
  },
  {
    "code": "CY",
    "name": "Cyprus"
  },
  {
    "code": "CZ",
    "name": "Czechia"
  },
  {
    "code": "DE",
    "name": "Germany"
  },
  {
    "code": "DJ",
    "name": "Djibouti"
  },
  {
    "code": "DK",
    "name": "Denmark"
  },
  {
    "code": "DM",
    "name": "Dominica"
  },
  {
    "code": "DO",
    "name": "The Dominican Republic"
  },
  {
    "code": "DZ",
    "name": "Algeria"
  },
  {
    "code": "EC",
    "name": "Ecuador"
  },
  {
    "code": "EE",
    "name": "Estonia"
  },
  {
    "code": "EG",
    "name": "Egypt"
  },
  {
    "code": "EH",
    "name": "Western Sahara"
  },
  {
    "code": "ER",
    "name": "Eritrea"
  },
  {
    "code": "ES",
    "name": "Spain"
  },
  {
    "code": "ET",
    "name": "Ethiopia"
  },
  {
    "code": "FI",
    "name": "Finland"
  },
  {
    "code": "FJ",
    "name": "Fiji"
  },
  {
    "code": "FK",
    "name": "The Falkland Islands Malvinas"
  },
  {
    "code": "FM",
    "name": "Federated States Of Micronesia"
  },
  {
    "code": "FO",
    "name": "The Faroe Islands"
  },
  {
    "code": "FR",
    "name": "France"
  },
  {
    "code": "GA",
    "name": "Gabon"
  },
  {
    "code": "GB",
    "name": "The United Kingdom Of Great Britain And Northern Ireland"
  },
  {
    "code": "GD",
    "name": "Grenada"
  },
  {
    "code": "GE",
    "name": "Georgia"
  },
  {
    "code": "GF",
    "name": "French Guiana"
  },
  {
    "code": "GG",
    "name": "Guernsey"
  },
  {
    "code": "GH",
    "name": "Ghana"
  },
  {
    "code": "GI",
    "name": "Gibraltar"
  },
  {
    "code": "GL",
    "name": "Greenland"
  },
  {
    "code": "GM",
    "name": "The Gambia"
  },
  {
    "code": "GN",
    "name": "Guinea"
  },
  {
    "code": "GP",
    "name": "Guadeloupe"
  },
  {
    "code": "GQ",
    "name": "Equatorial Guinea"
  },
  {
    "code": "GR",
    "name": "Greece"
  },
  {
    "code": "GS",
    "name": "South Georgia And The South Sandwich Islands"
  },
  {
    "code": "GT",
    "name": "Guatemala"
  },
  {
    "code": "GU",
    "name": "Guam"
  },
  {
    "code": "GW",
    "name": "Guinea Bissau"
  },
  {
    "code": "GY",
    "name": "Guyana"
  },
  {
    "code": "HK",
    "name": "Hong Kong"
  },
  {
    "code": "HM",
    "name": "Heard Island And Mc Donald Islands"
  },
  {
    "code": "HN",
    "name": "Honduras"
  },
  {
    "code": "HR",
    "name": "Croatia"
  },
  {
    "code": "HT",
    "name": "Haiti"
  },
  {
    "code": "HU",
    "name": "Hungary"
  },
  {
    "code": "ID",
    "name": "Indonesia"
  },
  {
    "code": "IE",
    "name": "Ireland"
  },
  {
    "code": "IL",
    "name": "Israel"
  },
  {
    "code": "IM",
    "name": "Isle Of Man"
  },
  {
    "code": "IN",
    "name": "India"
  },
  {
    "code": "IO",
    "name": "British Indian Ocean Territory"
  },
  {
    "code": "IQ",
    "name": "Iraq"
  },
  {
    "code": "IR",
    "name": "Islamic Republic Of Iran"
  },
  {
    "code": "IS",
    "name": "Iceland"
  },
  {
    "code": "IT",
    "name": "Italy"
  },
  {
    "code": "JE",
    "name": "Jersey"
  },
  {
    "code": "JM",
    "name": "Jamaica"
  },
  {
    "code": "JO",
    "name": "Jordan"
  },
  {
    "code": "JP",
    "name": "Japan"
  },
  {
    "code": "KE",
    "name": "Kenya"
  },
  {
    "code": "KG",
    "name": "Kyrgyzstan"
  },
  {
    "code": "KH",
    "name": "Cambodia"
  },
  {
    "code": "KI",
    "name": "Kiribati"
  },
  {
    "code": "KM",
    "name": "The Comoros"
  },
  {
    "code": "KN",
    "name": "Saint Kitts And Nevis"
  },
  {
    "code": "KP",
    "name": "The Democratic Peoples Republic Of Korea"
  },
  {
    "code": "KR",
    "name": "The Republic Of Korea"
  },
  {
    "code": "KW",
    "name": "Kuwait"
  },
  {
    "code": "KY",
    "name": "The Cayman Islands"
  },
  {
    "code": "KZ",
    "name": "Kazakhstan"
  },
  {
    "code": "LA",
    "name": "The Lao Peoples Democratic Republic"
  },
  {
    "code": "LB",
    "name": "Lebanon"
  },
  {
    "code": "LC",
    "name": "Saint Lucia"
  },
  {
    "code": "LI",
    "name": "Liechtenstein"
  },
  {
    "code": "LK",
    "name": "Sri Lanka"
  },
  {
    "code": "LR",
    "name": "Liberia"
  },
  {
    "code": "LS",
    "name": "Lesotho"
  },
  {
    "code": "LT",
    "name": "Lithuania"
  },
  {
    "code": "LU",
    "name": "Luxembourg"
  },
  {
    "code": "LV",
    "name": "Latvia"
  },
  {
    "code": "LY",
    "name": "Libya"
  },
  {
    "code": "MA",
    "name": "Morocco"
  },
  {
    "code": "MC",
    "name": "Monaco"
  },
  {
    "code": "MD",
    "name": "The Republic Of Moldova"
  },
  {
    "code": "ME",
    "name": "Montenegro"
  },
  {
    "code": "MF",
    "name": "French Part Saint Martin"
  },
  {
    "code": "MG",
    "name": "Madagascar"
  },
  {
    "code": "MH",
    "name": "The Marshall Islands"
  },
  {
    "code": "MK",
    "name": "Republic Of North Macedonia"
  },
  {
    "code": "ML",
    "name": "Mali"
  },
  {
    "code": "MM",
    "name": "Myanmar"
  },
  {
    "code": "MN",
    "name": "Mongolia"
  },
  {
    "code": "MO",
    "name": "Macao"
  },
  {
    "code": "MP",
    "name": "The Northern Mariana Islands"
  },
  {
    "code": "MQ",
    "name": "Martinique"
  },
  {
    "code": "MR",
    "name": "Mauritania"
  },
  {
    "code": "MS",
    "name": "Montserrat"
  },
  {
    "code": "MT",
    "name": "Malta"
  },
  {
    "code": "MU",
    "name": "Mauritius"
  },
  {
    "code": "MV",
    "name": "Maldives"
  },
  {
    "code": "MW",
    "name": "Malawi"
  },
  {
    "code": "MX",
    "name": "Mexico"
  },
  {
    "code": "MY",
    "name": "Malaysia"
  },
  {
    "code": "MZ",
    "name": "Mozambique"
  },
  {
    "code": "NA",
    "name": "Namibia"
  },
  {
    "code": "NC",
    "name": "New Caledonia"
  },
  {
    "code": "NE",
    "name": "The Niger"
  },
  {
    "code": "NF",
    "name": "Norfolk Island"
  },
  {
    "code": "NG",
    "name": "Nigeria"
  },
  {
    "code": "NI",
    "name": "Nicaragua"
  },
  {
    "code": "NL",
    "name": "The Netherlands"
  },
  {
    "code": "NO",
    "name": "Norway"
  },
  {
    "code": "NP",
    "name": "Nepal"
  },
  {
    "code": "NR",
    "name": "Nauru"
  },
  {
    "code": "NU",
    "name": "Niue"
  },
  {
    "code": "NZ",
    "name": "New Zealand"
  },
  {
    "code": "OM",
    "name": "Oman"
  },
  {
    "code": "PA",
    "name": "Panama"
  },
  {
    "code": "PE",
    "name": "Peru"
  },
  {
    "code": "PF",
    "name": "French Polynesia"
  },
  {
    "code": "PG",
    "name": "Papua New Guinea"
  },
  {
    "code": "PH",
    "name": "The Philippines"
  },
  {
    "code": "PK",
    "name": "Pakistan"
  },
  {
    "code": "PL",
    "name": "Poland"
  },
  {
    "code": "PM",
    "name": "Saint Pierre And Miquelon"
  },
  {
    "code": "PN",
    "name": "Pitcairn"
  },
  {
    "code": "PR",
    "name": "Puerto Rico"
  },
  {
    "code": "PS",
    "name": "State Of Palestine"
  },
  {
    "code": "PT",
    "name": "Portugal"
  },
  {
    "code": "PW",
    "name": "Palau"
  },
  {
    "code": "PY",
    "name": "Paraguay"
  },
  {
    "code": "QA",
    "name": "Qatar"
  },
  {
    "code": "RE",
    "name": "Reunion"
  },
  {
    "code": "RO",
    "name": "Romania"
  },
  {
    "code": "RS",
    "name": "Serbia"
  },
  {
    "code": "RU",
    "name": "The Russian Federation"
  },
  {
    "code": "RW",
    "name": "Rwanda"
  },
  {
    "code": "SA",
    "name": "Saudi Arabia"
  },
  {
    "code": "SB",
    "name": "Solomon Islands"
  },
  {
    "code": "SC",
    "name": "Seychelles"
  },
  {
    "code": "SD",
    "name": "The Sudan"
  },
  {
    "code": "SE",
    "name": "Sweden"
  },
  {
    "code": "SG",
    "name": "Singapore"
  },
  {
    "code": "SH",
    "name": "Ascension And Tristan Da Cunha Saint Helena"
  },
  {
    "code": "SI",
    "name": "Slovenia"
  },
  {
    "code": "SJ",
    "name": "Svalbard And Jan Mayen"
  },
  {
    "code": "SK",
    "name": "Slovakia"
  },
  {
    "code": "SL",
    "name": "Sierra Leone"
  },
  {
    "code": "SM",
    "name": "San Marino"
  },
  {
    "code": "SN",
    "name": "Senegal"
  },
  {
    "code": "SO",
    "name": "Somalia"
  },
  {
    "code": "SR",
    "name": "Suriname"
  },
  {
    "code": "SS",
    "name": "South Sudan"
  },
  {
    "code": "ST",
    "name": "Sao Tome And Principe"
  },
  {
    "code": "SV",
    "name": "El Salvador"
  },
  {
    "code": "SX",
    "name": "Dutch Part Sint Maarten"
  },
  {
    "code": "SY",
    "name": "Syrian Arab Republic"
  },
  {
    "code": "SZ",
    "name": "Eswatini"
  },
  {
    "code": "TC",
    "name": "The Turks And Caicos Islands"
  },
  {
    "code": "TD",
    "name": "Chad"
  },
  {
    "code": "TF",
    "name": "The French Southern Territories"
  },
  {
    "code": "TG",
    "name": "Togo"
  },
  {
    "code": "TH",
    "name": "Thailand"
  },
  {
    "code": "TJ",
    "name": "Tajikistan"
  },
  {
    "code": "TK",
    "name": "Tokelau"
  },
  {
    "code": "TL",
    "name": "Timor Leste"
  },
  {
    "code": "TM",
    "name": "Turkmenistan"
  },
  {
    "code": "TN",
    "name": "Tunisia"
  },
  {
    "code": "TO",
    "name": "Tonga"
  },
  {
    "code": "TR",
    "name": "Türkiye"
  },
  {
    "code": "TT",
    "name": "Trinidad And Tobago"
  },
  {
    "code": "TV",
    "name": "Tuvalu"
  },
  {
    "code": "TW",
    "name": "Taiwan, Republic Of China"
  },
  {
    "code": "TZ",
    "name": "United Republic Of Tanzania"
  },
  {
    "code": "UA",
    "name": "Ukraine"
  },
  {
    "code": "UG",
    "name": "Uganda"
  },
  {
    "code": "UM",
    "name": "The United States Minor Outlying Islands"
  },
  {
    "code": "US",
    "name": "The United States Of America"
  },
  {
    "code": "UY",
    "name": "Uruguay"
  },
  {
    "code": "UZ",
    "name": "Uzbekistan"
  },
  {
    "code": "VA",
    "name": "The Holy See"
  },
  {
    "code": "VC",
    "name": "Saint Vincent And The Grenadines"
  },
  {
    "code": "VE",
    "name": "Bolivarian Republic Of Venezuela"
  },
  {
    "code": "VG",
    "name": "British Virgin Islands"
  },
  {
    "code": "VI",
    "name": "US Virgin Islands"
  },
  {
    "code": "VN",
    "name": "Vietnam"
  },
  {
    "code": "VU",
    "name": "Vanuatu"
  },
  {
    "code": "WF",
    "name": "Wallis And Futuna"
  },
  {
    "code": "WS",
    "name": "Samoa"
  },
  {
    "code": "XK",
    "name": "Kosovo"
  },
  {
    "code": "YE",
    "name": "Yemen"
  },
  {
    "code": "YT",
    "name": "Mayotte"
  },
  {
    "code": "ZA",
    "name": "South Africa"
  },
  {
    "code": "ZM",
    "name": "Zambia"
  },
  {
    "code": "ZW",
    "name": "Zimbabwe"
  }
];

/** Bounds that are not one field's length. */
export const LIMITS: { readonly phone_min_digits: number; readonly phone_max_digits: number; readonly attributes: number; readonly attribute_value: number } = {
  "attribute_value": 200,
  "attributes": 20,
  "phone_max_digits": 15,
  "phone_min_digits": 5
};

/** The customer rules' words; fill `{...}` with `fill` (ui/src/lib/model.ts). */
export const MESSAGES: { readonly name_required: string; readonly too_long: string; readonly control_characters: string; readonly not_a_country: string; readonly too_many_attributes: string; readonly form_required: string; readonly form_not_an_option: string; readonly form_unknown_field: string; readonly phone_needs_region: string; readonly default_region_invalid: string } = {
  "control_characters": "Contains invisible control characters.",
  "default_region_invalid": "Not a country with phone numbers: use a two-letter code like DE, FR or US.",
  "form_not_an_option": "Choose one of the {label} options.",
  "form_required": "{label} is required.",
  "form_unknown_field": "The CRM has no field \"{name}\".",
  "name_required": "Enter a first or last name, or a company.",
  "not_a_country": "\"{value}\" is not a two-letter ISO country code (like DE, FR or US).",
  "phone_needs_region": "This number has no country code: add the country code, e.g. +49, or set a default region in Settings.",
  "too_long": "Too long: {len} characters, at most {max}.",
  "too_many_attributes": "At most {max} extra fields."
};

/** What the status bar and the Sync screen say while the CRM's answers are intercepted. */
export const CONNECTION_MESSAGES: Readonly<Record<Interception, string>> = {
  "proxy": "Not reaching the CRM: a proxy answered",
  "sign_in_page": "Not reaching the CRM: the network answered with a sign-in page"
};

/** What a failed save says when the local disk is full (the create form shows the core's words). */
export const STORAGE_MESSAGES: { readonly disk_full: string } = {
  "disk_full": "the disk is full: nothing was saved"
};

/** Each kind of endpoint with its connector's defaults and sign-in methods. */
export const ENDPOINT_KINDS: readonly KindSpec[] = [
  {
    "api_version": null,
    "auth_methods": [
      "token",
      "oauth-client-credentials"
    ],
    "batch_size": 50,
    "filters_by_owner": false,
    "key_property": null,
    "kind": "generic-rest",
    "label": "Generic REST",
    "rate_limit": null,
    "rate_window_secs": 10,
    "takes_shop_number": true,
    "token_label": "API token",
    "url_placeholder": "https://crm.example.com"
  },
  {
    "api_version": null,
    "auth_methods": [
      "token",
      "oauth-refresh"
    ],
    "batch_size": 100,
    "filters_by_owner": true,
    "key_property": "outpost_key",
    "kind": "hubspot",
    "label": "HubSpot",
    "rate_limit": 100,
    "rate_window_secs": 10,
    "takes_shop_number": false,
    "token_label": "Private app token",
    "url_placeholder": "https://api.hubapi.com"
  },
  {
    "api_version": null,
    "auth_methods": [
      "token"
    ],
    "batch_size": 20,
    "filters_by_owner": false,
    "key_property": null,
    "kind": "bottlecrm",
    "label": "BottleCRM",
    "rate_limit": null,
    "rate_window_secs": 10,
    "takes_shop_number": false,
    "token_label": "API token",
    "url_placeholder": "https://crm.example.com"
  },
  {
    "api_version": null,
    "auth_methods": [
      "oauth-refresh",
      "oauth-client-credentials"
    ],
    "batch_size": 200,
    "filters_by_owner": true,
    "key_property": "Outpost_Key__c",
    "kind": "salesforce",
    "label": "Salesforce",
    "rate_limit": null,
    "rate_window_secs": 10,
    "takes_shop_number": false,
    "token_label": "API token",
    "url_placeholder": "https://MyDomainName.my.salesforce.com"
  },
  {
    "api_version": "9.2",
    "auth_methods": [
      "oauth-client-credentials"
    ],
    "batch_size": 100,
    "filters_by_owner": false,
    "key_property": "outpost_key",
    "kind": "dynamics",
    "label": "Dynamics 365",
    "rate_limit": 5880,
    "rate_window_secs": 300,
    "takes_shop_number": false,
    "token_label": "API token",
    "url_placeholder": "https://yourorg.crm.dynamics.com"
  },
  {
    "api_version": "8",
    "auth_methods": [
      "oauth-refresh"
    ],
    "batch_size": 100,
    "filters_by_owner": false,
    "key_property": "Outpost_Key",
    "kind": "zoho",
    "label": "Zoho CRM",
    "rate_limit": null,
    "rate_window_secs": 10,
    "takes_shop_number": false,
    "token_label": "API token",
    "url_placeholder": "https://www.zohoapis.com"
  }
];

/** Zoho's data centres, the default first: the Settings form offers them by region. */
export const ZOHO_DATA_CENTRES: ReadonlyArray<{ readonly region: string; readonly accounts: string; readonly api_domain: string; readonly token_url: string }> = [
  {
    "accounts": "accounts.zoho.com",
    "api_domain": "https://www.zohoapis.com",
    "region": "United States (zoho.com)",
    "token_url": "https://accounts.zoho.com/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.eu",
    "api_domain": "https://www.zohoapis.eu",
    "region": "Europe (zoho.eu)",
    "token_url": "https://accounts.zoho.eu/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.in",
    "api_domain": "https://www.zohoapis.in",
    "region": "India (zoho.in)",
    "token_url": "https://accounts.zoho.in/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.com.au",
    "api_domain": "https://www.zohoapis.com.au",
    "region": "Australia (zoho.com.au)",
    "token_url": "https://accounts.zoho.com.au/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.jp",
    "api_domain": "https://www.zohoapis.jp",
    "region": "Japan (zoho.jp)",
    "token_url": "https://accounts.zoho.jp/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.com.cn",
    "api_domain": "https://www.zohoapis.com.cn",
    "region": "China (zoho.com.cn)",
    "token_url": "https://accounts.zoho.com.cn/oauth/v2/token"
  },
  {
    "accounts": "accounts.zohocloud.ca",
    "api_domain": "https://www.zohoapis.ca",
    "region": "Canada (zohocloud.ca)",
    "token_url": "https://accounts.zohocloud.ca/oauth/v2/token"
  },
  {
    "accounts": "accounts.zoho.sa",
    "api_domain": "https://www.zohoapis.sa",
    "region": "Saudi Arabia (zoho.sa)",
    "token_url": "https://accounts.zoho.sa/oauth/v2/token"
  }
];

/** Each sign-in method with the secrets it keeps in the keyring. */
export const AUTH_METHODS: readonly AuthSpec[] = [
  {
    "label": "API token",
    "method": "token",
    "needs_client_id": false,
    "secrets": [
      "token"
    ]
  },
  {
    "label": "OAuth refresh token",
    "method": "oauth-refresh",
    "needs_client_id": true,
    "secrets": [
      "client_secret",
      "refresh_token"
    ]
  },
  {
    "label": "OAuth client credentials",
    "method": "oauth-client-credentials",
    "needs_client_id": true,
    "secrets": [
      "client_secret"
    ]
  }
];

/** Every secret an endpoint may keep. */
export const SECRETS: readonly SecretSpec[] = [
  {
    "missing": "Enter the API token.",
    "name": "token"
  },
  {
    "missing": "Enter the client secret.",
    "name": "client_secret"
  },
  {
    "missing": "Enter the refresh token.",
    "name": "refresh_token"
  }
];

/** What every secret must be. */
export const SECRET_RULE: SecretRule = {
  "max_chars": 4096,
  "message": "One line of at most {max} characters.",
  "one_line": true
};

/** The regions phone numbers can be read in, with their calling codes. */
export const PHONE_REGIONS: readonly { readonly code: string; readonly calling_code: number }[] = [
  {
    "calling_code": 247,
    "code": "AC"
  },
  {
    "calling_code": 376,
    "code": "AD"
  },
  {
    "calling_code": 971,
    "code": "AE"
  },
  {
    "calling_code": 93,
    "code": "AF"
  },
  {
    "calling_code": 1,
    "code": "AG"
  },
  {
    "calling_code": 1,
    "code": "AI"
  },
  {
    "calling_code": 355,
    "code": "AL"
  },
  {
    "calling_code": 374,
    "code": "AM"
  },
  {
    "calling_code": 244,
    "code": "AO"
  },
  {
    "calling_code": 54,
    "code": "AR"
  },
  {
    "calling_code": 1,
    "code": "AS"
  },
  {
    "calling_code": 43,
    "code": "AT"
  },
  {
    "calling_code": 61,
    "code": "AU"
  },
  {
    "calling_code": 297,
    "code": "AW"
  },
  {
    "calling_code": 358,
    "code": "AX"
  },
  {
    "calling_code": 994,
    "code": "AZ"
  },
  {
    "calling_code": 387,
    "code": "BA"
  },
  {
    "calling_code": 1,
    "code": "BB"
  },
  {
    "calling_code": 880,
    "code": "BD"
  },
  {
    "calling_code": 32,
    "code": "BE"
  },
  {
    "calling_code": 226,
    "code": "BF"
  },
  {
    "calling_code": 359,
    "code": "BG"
  },
  {
    "calling_code": 973,
    "code": "BH"
  },
  {
    "calling_code": 257,
    "code": "BI"
  },
  {
    "calling_code": 229,
    "code": "BJ"
  },
  {
    "calling_code": 590,
    "code": "BL"
  },
  {
    "calling_code": 1,
    "code": "BM"
  },
  {
    "calling_code": 673,
    "code": "BN"
  },
  {
    "calling_code": 591,
    "code": "BO"
  },
  {
    "calling_code": 599,
    "code": "BQ"
  },
  {
    "calling_code": 55,
    "code": "BR"
  },
  {
    "calling_code": 1,
    "code": "BS"
  },
  {
    "calling_code": 975,
    "code": "BT"
  },
  {
    "calling_code": 267,
    "code": "BW"
  },
  {
    "calling_code": 375,
    "code": "BY"
  },
  {
    "calling_code": 501,
    "code": "BZ"
  },
  {
    "calling_code": 1,
    "code": "CA"
  },
  {
    "calling_code": 61,
    "code": "CC"
  },
  {
    "calling_code": 243,
    "code": "CD"
  },
  {
    "calling_code": 236,
    "code": "CF"
  },
  {
    "calling_code": 242,
    "code": "CG"
  },
  {
    "calling_code": 41,
    "code": "CH"
  },
  {
    "calling_code": 225,
    "code": "CI"
  },
  {
    "calling_code": 682,
    "code": "CK"
  },
  {
    "calling_code": 56,
    "code": "CL"
  },
  {
    "calling_code": 237,
    "code": "CM"
  },
  {
    "calling_code": 86,
    "code": "CN"
  },
  {
    "calling_code": 57,
    "code": "CO"
  },
  {
    "calling_code": 506,
    "code": "CR"
  },
  {
    "calling_code": 53,
    "code": "CU"
  },
  {
    "calling_code": 238,
    "code": "CV"
  },
  {
    "calling_code": 599,
    "code": "CW"
  },
  {
    "calling_code": 61,
    "code": "CX"
  },
  {
    "calling_code": 357,
    "code": "CY"
  },
  {
    "calling_code": 420,
    "code": "CZ"
  },
  {
    "calling_code": 49,
    "code": "DE"
  },
  {
    "calling_code": 253,
    "code": "DJ"
  },
  {
    "calling_code": 45,
    "code": "DK"
  },
  {
    "calling_code": 1,
    "code": "DM"
  },
  {
    "calling_code": 1,
    "code": "DO"
  },
  {
    "calling_code": 213,
    "code": "DZ"
  },
  {
    "calling_code": 593,
    "code": "EC"
  },
  {
    "calling_code": 372,
    "code": "EE"
  },
  {
    "calling_code": 20,
    "code": "EG"
  },
  {
    "calling_code": 212,
    "code": "EH"
  },
  {
    "calling_code": 291,
    "code": "ER"
  },
  {
    "calling_code": 34,
    "code": "ES"
  },
  {
    "calling_code": 251,
    "code": "ET"
  },
  {
    "calling_code": 358,
    "code": "FI"
  },
  {
    "calling_code": 679,
    "code": "FJ"
  },
  {
    "calling_code": 500,
    "code": "FK"
  },
  {
    "calling_code": 691,
    "code": "FM"
  },
  {
    "calling_code": 298,
    "code": "FO"
  },
  {
    "calling_code": 33,
    "code": "FR"
  },
  {
    "calling_code": 241,
    "code": "GA"
  },
  {
    "calling_code": 44,
    "code": "GB"
  },
  {
    "calling_code": 1,
    "code": "GD"
  },
  {
    "calling_code": 995,
    "code": "GE"
  },
  {
    "calling_code": 594,
    "code": "GF"
  },
  {
    "calling_code": 44,
    "code": "GG"
  },
  {
    "calling_code": 233,
    "code": "GH"
  },
  {
    "calling_code": 350,
    "code": "GI"
  },
  {
    "calling_code": 299,
    "code": "GL"
  },
  {
    "calling_code": 220,
    "code": "GM"
  },
  {
    "calling_code": 224,
    "code": "GN"
  },
  {
    "calling_code": 590,
    "code": "GP"
  },
  {
    "calling_code": 240,
    "code": "GQ"
  },
  {
    "calling_code": 30,
    "code": "GR"
  },
  {
    "calling_code": 502,
    "code": "GT"
  },
  {
    "calling_code": 1,
    "code": "GU"
  },
  {
    "calling_code": 245,
    "code": "GW"
  },
  {
    "calling_code": 592,
    "code": "GY"
  },
  {
    "calling_code": 852,
    "code": "HK"
  },
  {
    "calling_code": 504,
    "code": "HN"
  },
  {
    "calling_code": 385,
    "code": "HR"
  },
  {
    "calling_code": 509,
    "code": "HT"
  },
  {
    "calling_code": 36,
    "code": "HU"
  },
  {
    "calling_code": 62,
    "code": "ID"
  },
  {
    "calling_code": 353,
    "code": "IE"
  },
  {
    "calling_code": 972,
    "code": "IL"
  },
  {
    "calling_code": 44,
    "code": "IM"
  },
  {
    "calling_code": 91,
    "code": "IN"
  },
  {
    "calling_code": 246,
    "code": "IO"
  },
  {
    "calling_code": 964,
    "code": "IQ"
  },
  {
    "calling_code": 98,
    "code": "IR"
  },
  {
    "calling_code": 354,
    "code": "IS"
  },
  {
    "calling_code": 39,
    "code": "IT"
  },
  {
    "calling_code": 44,
    "code": "JE"
  },
  {
    "calling_code": 1,
    "code": "JM"
  },
  {
    "calling_code": 962,
    "code": "JO"
  },
  {
    "calling_code": 81,
    "code": "JP"
  },
  {
    "calling_code": 254,
    "code": "KE"
  },
  {
    "calling_code": 996,
    "code": "KG"
  },
  {
    "calling_code": 855,
    "code": "KH"
  },
  {
    "calling_code": 686,
    "code": "KI"
  },
  {
    "calling_code": 269,
    "code": "KM"
  },
  {
    "calling_code": 1,
    "code": "KN"
  },
  {
    "calling_code": 850,
    "code": "KP"
  },
  {
    "calling_code": 82,
    "code": "KR"
  },
  {
    "calling_code": 965,
    "code": "KW"
  },
  {
    "calling_code": 1,
    "code": "KY"
  },
  {
    "calling_code": 7,
    "code": "KZ"
  },
  {
    "calling_code": 856,
    "code": "LA"
  },
  {
    "calling_code": 961,
    "code": "LB"
  },
  {
    "calling_code": 1,
    "code": "LC"
  },
  {
    "calling_code": 423,
    "code": "LI"
  },
  {
    "calling_code": 94,
    "code": "LK"
  },
  {
    "calling_code": 231,
    "code": "LR"
  },
  {
    "calling_code": 266,
    "code": "LS"
  },
  {
    "calling_code": 370,
    "code": "LT"
  },
  {
    "calling_code": 352,
    "code": "LU"
  },
  {
    "calling_code": 371,
    "code": "LV"
  },
  {
    "calling_code": 218,
    "code": "LY"
  },
  {
    "calling_code": 212,
    "code": "MA"
  },
  {
    "calling_code": 377,
    "code": "MC"
  },
  {
    "calling_code": 373,
    "code": "MD"
  },
  {
    "calling_code": 382,
    "code": "ME"
  },
  {
    "calling_code": 590,
    "code": "MF"
  },
  {
    "calling_code": 261,
    "code": "MG"
  },
  {
    "calling_code": 692,
    "code": "MH"
  },
  {
    "calling_code": 389,
    "code": "MK"
  },
  {
    "calling_code": 223,
    "code": "ML"
  },
  {
    "calling_code": 95,
    "code": "MM"
  },
  {
    "calling_code": 976,
    "code": "MN"
  },
  {
    "calling_code": 853,
    "code": "MO"
  },
  {
    "calling_code": 1,
    "code": "MP"
  },
  {
    "calling_code": 596,
    "code": "MQ"
  },
  {
    "calling_code": 222,
    "code": "MR"
  },
  {
    "calling_code": 1,
    "code": "MS"
  },
  {
    "calling_code": 356,
    "code": "MT"
  },
  {
    "calling_code": 230,
    "code": "MU"
  },
  {
    "calling_code": 960,
    "code": "MV"
  },
  {
    "calling_code": 265,
    "code": "MW"
  },
  {
    "calling_code": 52,
    "code": "MX"
  },
  {
    "calling_code": 60,
    "code": "MY"
  },
  {
    "calling_code": 258,
    "code": "MZ"
  },
  {
    "calling_code": 264,
    "code": "NA"
  },
  {
    "calling_code": 687,
    "code": "NC"
  },
  {
    "calling_code": 227,
    "code": "NE"
  },
  {
    "calling_code": 672,
    "code": "NF"
  },
  {
    "calling_code": 234,
    "code": "NG"
  },
  {
    "calling_code": 505,
    "code": "NI"
  },
  {
    "calling_code": 31,
    "code": "NL"
  },
  {
    "calling_code": 47,
    "code": "NO"
  },
  {
    "calling_code": 977,
    "code": "NP"
  },
  {
    "calling_code": 674,
    "code": "NR"
  },
  {
    "calling_code": 683,
    "code": "NU"
  },
  {
    "calling_code": 64,
    "code": "NZ"
  },
  {
    "calling_code": 968,
    "code": "OM"
  },
  {
    "calling_code": 507,
    "code": "PA"
  },
  {
    "calling_code": 51,
    "code": "PE"
  },
  {
    "calling_code": 689,
    "code": "PF"
  },
  {
    "calling_code": 675,
    "code": "PG"
  },
  {
    "calling_code": 63,
    "code": "PH"
  },
  {
    "calling_code": 92,
    "code": "PK"
  },
  {
    "calling_code": 48,
    "code": "PL"
  },
  {
    "calling_code": 508,
    "code": "PM"
  },
  {
    "calling_code": 1,
    "code": "PR"
  },
  {
    "calling_code": 970,
    "code": "PS"
  },
  {
    "calling_code": 351,
    "code": "PT"
  },
  {
    "calling_code": 680,
    "code": "PW"
  },
  {
    "calling_code": 595,
    "code": "PY"
  },
  {
    "calling_code": 974,
    "code": "QA"
  },
  {
    "calling_code": 262,
    "code": "RE"
  },
  {
    "calling_code": 40,
    "code": "RO"
  },
  {
    "calling_code": 381,
    "code": "RS"
  },
  {
    "calling_code": 7,
    "code": "RU"
  },
  {
    "calling_code": 250,
    "code": "RW"
  },
  {
    "calling_code": 966,
    "code": "SA"
  },
  {
    "calling_code": 677,
    "code": "SB"
  },
  {
    "calling_code": 248,
    "code": "SC"
  },
  {
    "calling_code": 249,
    "code": "SD"
  },
  {
    "calling_code": 46,
    "code": "SE"
  },
  {
    "calling_code": 65,
    "code": "SG"
  },
  {
    "calling_code": 290,
    "code": "SH"
  },
  {
    "calling_code": 386,
    "code": "SI"
  },
  {
    "calling_code": 47,
    "code": "SJ"
  },
  {
    "calling_code": 421,
    "code": "SK"
  },
  {
    "calling_code": 232,
    "code": "SL"
  },
  {
    "calling_code": 378,
    "code": "SM"
  },
  {
    "calling_code": 221,
    "code": "SN"
  },
  {
    "calling_code": 252,
    "code": "SO"
  },
  {
    "calling_code": 597,
    "code": "SR"
  },
  {
    "calling_code": 211,
    "code": "SS"
  },
  {
    "calling_code": 239,
    "code": "ST"
  },
  {
    "calling_code": 503,
    "code": "SV"
  },
  {
    "calling_code": 1,
    "code": "SX"
  },
  {
    "calling_code": 963,
    "code": "SY"
  },
  {
    "calling_code": 268,
    "code": "SZ"
  },
  {
    "calling_code": 290,
    "code": "TA"
  },
  {
    "calling_code": 1,
    "code": "TC"
  },
  {
    "calling_code": 235,
    "code": "TD"
  },
  {
    "calling_code": 228,
    "code": "TG"
  },
  {
    "calling_code": 66,
    "code": "TH"
  },
  {
    "calling_code": 992,
    "code": "TJ"
  },
  {
    "calling_code": 690,
    "code": "TK"
  },
  {
    "calling_code": 670,
    "code": "TL"
  },
  {
    "calling_code": 993,
    "code": "TM"
  },
  {
    "calling_code": 216,
    "code": "TN"
  },
  {
    "calling_code": 676,
    "code": "TO"
  },
  {
    "calling_code": 90,
    "code": "TR"
  },
  {
    "calling_code": 1,
    "code": "TT"
  },
  {
    "calling_code": 688,
    "code": "TV"
  },
  {
    "calling_code": 886,
    "code": "TW"
  },
  {
    "calling_code": 255,
    "code": "TZ"
  },
  {
    "calling_code": 380,
    "code": "UA"
  },
  {
    "calling_code": 256,
    "code": "UG"
  },
  {
    "calling_code": 1,
    "code": "US"
  },
  {
    "calling_code": 598,
    "code": "UY"
  },
  {
    "calling_code": 998,
    "code": "UZ"
  },
  {
    "calling_code": 39,
    "code": "VA"
  },
  {
    "calling_code": 1,
    "code": "VC"
  },
  {
    "calling_code": 58,
    "code": "VE"
  },
  {
    "calling_code": 1,
    "code": "VG"
  },
  {
    "calling_code": 1,
    "code": "VI"
  },
  {
    "calling_code": 84,
    "code": "VN"
  },
  {
    "calling_code": 678,
    "code": "VU"
  },
  {
    "calling_code": 681,
    "code": "WF"
  },
  {
    "calling_code": 685,
    "code": "WS"
  },
  {
    "calling_code": 383,
    "code": "XK"
  },
  {
    "calling_code": 967,
    "code": "YE"
  },
  {
    "calling_code": 262,
    "code": "YT"
  },
  {
    "calling_code": 27,
    "code": "ZA"
  },
  {
    "calling_code": 260,
    "code": "ZM"
  },
  {
    "calling_code": 263,
    "code": "ZW"
  }
];

/** The ranges of the endpoint's whole-number settings. */
export const ENDPOINT_LIMITS: { readonly priority: Range; readonly batch_size: Range; readonly rate_limit: Range; readonly rate_window_secs: Range; readonly pull_modified_within_days: Range; readonly key_shop: Range; readonly concurrency: Range } = {
  "batch_size": {
    "max": 1000,
    "message": "Use a batch size from {min} to {max}.",
    "min": 1
  },
  "concurrency": {
    "max": 100,
    "message": "Use a concurrency from {min} to {max} requests in flight.",
    "min": 1
  },
  "key_shop": {
    "max": 999999,
    "message": "Use a shop number from {min} to {max}.",
    "min": 1
  },
  "priority": {
    "max": 1000,
    "message": "Use a priority from {min} to {max}.",
    "min": 0
  },
  "pull_modified_within_days": {
    "max": 3650,
    "message": "Use {min} to {max} days, or leave empty to keep every customer.",
    "min": 1
  },
  "rate_limit": {
    "max": 100000,
    "message": "Use a rate limit from {min} to {max} requests.",
    "min": 1
  },
  "rate_window_secs": {
    "max": 3600,
    "message": "Use a window from {min} to {max} seconds.",
    "min": 1
  }
};

/** A new endpoint's settings when none are given. */
export const ENDPOINT_DEFAULTS: { readonly priority: number } = {
  "priority": 100
};

/** The endpoint settings' words. */
export const ENDPOINT_MESSAGES: { readonly url_rule: string; readonly client_id_required: string } = {
  "client_id_required": "OAuth needs the app's client id.",
  "url_rule": "Use https://. Plain http:// is only allowed to this computer (localhost, 127.0.0.1 or ::1), for example the bundled CRM emulator."
};

/** The admin passphrase's bounds, the settings' idle lock, and their words. */
export const ADMIN: { readonly passphrase_min_chars: number; readonly passphrase_max_chars: number; readonly idle_lock_secs: number; readonly weak: string; readonly wrong: string } = {
  "idle_lock_secs": 300,
  "passphrase_max_chars": 256,
  "passphrase_min_chars": 8,
  "weak": "the admin passphrase must be 8 to 256 characters long",
  "wrong": "the admin passphrase is wrong"
};

/** Each kind of endpoint's own field map (Outpost field to CRM field), before an admin's overrides. */
export const DEFAULT_FIELD_MAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "bottlecrm": {
    "city": "city",
    "company": "organization",
    "country": "country",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "notes": "description",
    "phone": "phone",
    "postal_code": "postcode",
    "street": "address_line"
  },
  "dynamics": {
    "city": "address1_city",
    "company": "company",
    "country": "address1_country",
    "email": "emailaddress1",
    "first_name": "firstname",
    "last_name": "lastname",
    "phone": "telephone1",
    "postal_code": "address1_postalcode",
    "street": "address1_line1"
  },
  "generic-rest": {
    "city": "city",
    "company": "company",
    "country": "country",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "notes": "notes",
    "phone": "phone",
    "postal_code": "postal_code",
    "street": "street",
    "tax_id": "tax_id"
  },
  "hubspot": {
    "city": "city",
    "company": "company",
    "country": "country",
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "phone": "phone",
    "postal_code": "zip",
    "street": "address"
  },
  "salesforce": {
    "city": "MailingCity",
    "country": "MailingCountry",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "notes": "Description",
    "phone": "Phone",
    "postal_code": "MailingPostalCode",
    "street": "MailingStreet"
  },
  "zoho": {
    "city": "Mailing_City",
    "country": "Mailing_Country",
    "email": "Email",
    "first_name": "First_Name",
    "last_name": "Last_Name",
    "notes": "Description",
    "phone": "Phone",
    "postal_code": "Mailing_Zip",
    "street": "Mailing_Street"
  }
};
