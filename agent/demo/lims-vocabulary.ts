/**
 * Static vocabulary for the LIMS-like data generator (lims-data.ts): the
 * analysis services, categories, departments, sample types and names a small
 * environmental/food testing lab would hold in SENAITE.
 *
 * Invariants: everything here is frozen, read-only data; the generator's
 * determinism depends on these tables never changing order at run time (a
 * change of order is a change of the generated data set).
 */

export interface ServiceSpec {
  readonly keyword: string
  readonly title: string
  readonly unit: string
  readonly method: string
  readonly instrument: string
  /** index into CATEGORIES */
  readonly category: number
  readonly min: number
  readonly max: number
  readonly decimals: number
}

export interface SampleTypeSpec {
  readonly title: string
  readonly prefix: string
  readonly retentionDays: number
  readonly container: string
}

/** [title, index into DEPARTMENTS] */
export const CATEGORIES: readonly (readonly [string, number])[] = Object.freeze([
  ['Metals', 0], ['Physico-chemical', 0], ['Nutrients', 0], ['Anions', 0],
  ['Microbiology', 1], ['Food composition', 2], ['Contaminants', 2], ['Organic parameters', 3]
] as const)

export const DEPARTMENTS: readonly string[] = Object.freeze([
  'Inorganic Chemistry', 'Microbiology', 'Food Analysis', 'Environmental Organics'
])

function service (keyword: string, title: string, unit: string, method: string, instrument: string,
  category: number, min: number, max: number, decimals: number): ServiceSpec {
  return Object.freeze({ keyword, title, unit, method, instrument, category, min, max, decimals })
}

export const SERVICES: readonly ServiceSpec[] = Object.freeze([
  service('Ca', 'Calcium', 'mg/L', 'EPA 200.7', 'ICP-OES Optima 8300', 0, 2, 180, 1),
  service('Mg', 'Magnesium', 'mg/L', 'EPA 200.7', 'ICP-OES Optima 8300', 0, 0.5, 60, 2),
  service('Na', 'Sodium', 'mg/L', 'EPA 200.7', 'ICP-OES Optima 8300', 0, 1, 250, 1),
  service('K', 'Potassium', 'mg/L', 'EPA 200.7', 'ICP-OES Optima 8300', 0, 0.2, 30, 2),
  service('Fe', 'Iron', 'mg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 0.01, 3, 3),
  service('Cu', 'Copper', 'µg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 0.5, 900, 1),
  service('Zn', 'Zinc', 'µg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 1, 1500, 1),
  service('Pb', 'Lead', 'µg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 0.05, 15, 2),
  service('Cd', 'Cadmium', 'µg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 0.01, 5, 3),
  service('Hg', 'Mercury', 'µg/L', 'EPA 245.1', 'CV-AAS FIMS 100', 0, 0.01, 2, 3),
  service('As', 'Arsenic', 'µg/L', 'EPA 200.8', 'ICP-MS NexION 2000', 0, 0.1, 12, 2),
  service('pH', 'pH', 'pH units', 'SM 4500-H+ B', 'pH meter Metrohm 913', 1, 5.5, 9, 2),
  service('EC', 'Electrical conductivity', 'µS/cm', 'SM 2510 B', 'Conductivity meter WTW 3320', 1, 50, 2500, 0),
  service('TDS', 'Total dissolved solids', 'mg/L', 'SM 2540 C', 'Balance XPR205', 1, 30, 1600, 0),
  service('TSS', 'Total suspended solids', 'mg/L', 'SM 2540 D', 'Balance XPR205', 1, 1, 400, 1),
  service('Turb', 'Turbidity', 'NTU', 'ISO 7027-1', 'Turbidimeter Hach 2100Q', 1, 0.1, 50, 2),
  service('COD', 'Chemical oxygen demand', 'mg O2/L', 'ISO 15705', 'Spectrophotometer DR3900', 7, 5, 800, 0),
  service('BOD5', 'Biochemical oxygen demand (5 d)', 'mg O2/L', 'SM 5210 B', 'BOD incubator Velp FOC', 7, 1, 350, 1),
  service('TOC', 'Total organic carbon', 'mg/L', 'SM 5310 B', 'TOC analyser Shimadzu TOC-L', 7, 0.3, 60, 2),
  service('NO3', 'Nitrate', 'mg/L', 'EPA 300.0', 'Ion chromatograph Dionex ICS-6000', 2, 0.1, 50, 2),
  service('NO2', 'Nitrite', 'mg/L', 'EPA 300.0', 'Ion chromatograph Dionex ICS-6000', 2, 0.005, 3, 3),
  service('NH4', 'Ammonium', 'mg/L', 'ISO 7150-1', 'Spectrophotometer DR3900', 2, 0.01, 20, 3),
  service('PO4', 'Orthophosphate', 'mg/L', 'SM 4500-P E', 'Spectrophotometer DR3900', 2, 0.01, 10, 3),
  service('SO4', 'Sulfate', 'mg/L', 'EPA 300.0', 'Ion chromatograph Dionex ICS-6000', 3, 1, 400, 1),
  service('Cl', 'Chloride', 'mg/L', 'EPA 300.0', 'Ion chromatograph Dionex ICS-6000', 3, 1, 350, 1),
  service('F', 'Fluoride', 'mg/L', 'EPA 300.0', 'Ion chromatograph Dionex ICS-6000', 3, 0.05, 2.5, 2),
  service('TC', 'Total coliforms', 'CFU/100 mL', 'ISO 9308-1', 'Incubator Memmert IN110', 4, 0, 300, 0),
  service('EColi', 'Escherichia coli', 'CFU/100 mL', 'ISO 9308-1', 'Incubator Memmert IN110', 4, 0, 120, 0),
  service('Ent', 'Intestinal enterococci', 'CFU/100 mL', 'ISO 7899-2', 'Incubator Memmert IN110', 4, 0, 80, 0),
  service('TPC', 'Total plate count (22 °C)', 'CFU/mL', 'ISO 6222', 'Incubator Memmert IN110', 4, 0, 5000, 0),
  service('Moist', 'Moisture', '%', 'AOAC 925.10', 'Moisture analyser HE53', 5, 2, 85, 1),
  service('Ash', 'Ash', '%', 'AOAC 923.03', 'Muffle furnace Nabertherm L9', 5, 0.1, 12, 2),
  service('Prot', 'Crude protein', '%', 'AOAC 981.10', 'Kjeldahl Kjeltec 8400', 5, 0.5, 45, 2),
  service('Fat', 'Crude fat', '%', 'AOAC 920.39', 'Soxtec 8000', 5, 0.1, 40, 2),
  service('Fibre', 'Crude fibre', '%', 'AOAC 962.09', 'Fibertec 8000', 5, 0.1, 20, 2),
  service('Brix', 'Soluble solids', '°Bx', 'AOAC 932.12', 'Refractometer Atago RX-5000', 5, 2, 30, 1),
  service('Alc', 'Alcoholic strength', '% vol', 'OIV-MA-AS312-01A', 'Density meter DMA 4500', 5, 0.5, 16, 2),
  service('AflaB1', 'Aflatoxin B1', 'µg/kg', 'EN 14123', 'HPLC-FLD Agilent 1260', 6, 0.1, 20, 2),
  service('Glyph', 'Glyphosate', 'µg/kg', 'QuPPe-PO', 'LC-MS/MS Sciex 6500+', 6, 5, 2000, 0),
  service('Benzo', 'Benzo[a]pyrene', 'µg/kg', 'EN 16619', 'GC-MS Agilent 8890', 6, 0.05, 10, 2)
])

function sampleType (title: string, prefix: string, retentionDays: number, container: string): SampleTypeSpec {
  return Object.freeze({ title, prefix, retentionDays, container })
}

export const SAMPLE_TYPES: readonly SampleTypeSpec[] = Object.freeze([
  sampleType('Drinking water', 'DW', 30, 'PET bottle 1 L'),
  sampleType('Groundwater', 'GW', 30, 'PET bottle 1 L'),
  sampleType('Surface water', 'SW', 30, 'PET bottle 1 L'),
  sampleType('Wastewater', 'WW', 14, 'HDPE bottle 2 L'),
  sampleType('Sludge', 'SL', 14, 'Glass jar 500 mL'),
  sampleType('Soil', 'SO', 90, 'Polyethylene bag 1 kg'),
  sampleType('Sediment', 'SE', 90, 'Glass jar 500 mL'),
  sampleType('Raw milk', 'MI', 7, 'Sterile tube 50 mL'),
  sampleType('Wine', 'WI', 60, 'Glass bottle 750 mL'),
  sampleType('Grain', 'GR', 180, 'Paper bag 2 kg'),
  sampleType('Fruit juice', 'FJ', 14, 'PET bottle 500 mL'),
  sampleType('Animal feed', 'AF', 180, 'Polyethylene bag 1 kg')
])

export const FIRST_NAMES: readonly string[] = Object.freeze([
  'Amina', 'Bruno', 'Carla', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hiroshi', 'Ines', 'Jonas',
  'Kalinda', 'Luca', 'Maite', 'Nikos', 'Olga', 'Pedro', 'Qiu', 'Rosa', 'Sven', 'Thandiwe',
  'Umar', 'Valeria', 'Wim', 'Ximena', 'Yusuf', 'Zofia'
])

export const LAST_NAMES: readonly string[] = Object.freeze([
  'Abebe', 'Bianchi', 'Castro', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova', 'Janssen',
  'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Schmidt', 'Tanaka',
  'Urquhart', 'Vidal', 'Weber', 'Xu', 'Yilmaz', 'Zimmermann'
])

export const JOB_TITLES: readonly string[] = Object.freeze([
  'Laboratory analyst', 'Senior analyst', 'Laboratory technician', 'Quality manager',
  'Head of department', 'Laboratory manager', 'Sampling technician'
])

export const CLIENT_KINDS: readonly string[] = Object.freeze([
  'Water Utility', 'Municipality', 'Dairy Cooperative', 'Winery', 'Agro Holdings',
  'Environmental Consultants', 'Food Processing', 'Feed Mill', 'Mining Company', 'Hospital'
])

export const PLACES: readonly string[] = Object.freeze([
  'Aldercreek', 'Brightwater', 'Cedarford', 'Dunmore', 'Eastvale', 'Fairhaven', 'Greenhill',
  'Highbridge', 'Ironwood', 'Juniper Bay', 'Kingsmere', 'Lakeside', 'Millbrook', 'Northgate',
  'Oakridge', 'Pinecrest', 'Queensferry', 'Riverton', 'Stonebridge', 'Thornbury'
])

export const SAMPLE_POINTS: readonly string[] = Object.freeze([
  'Inlet works', 'Outlet channel', 'Borehole 3', 'Borehole 12', 'Reservoir tap', 'Distribution point 7',
  'Storage tank A', 'Field plot 14', 'Silo 2', 'Bulk tank', 'Production line 1', 'Cellar tank 5'
])

export const STORAGE_LOCATIONS: readonly string[] = Object.freeze([
  'Cold room 1 / shelf A', 'Cold room 1 / shelf B', 'Fridge 3 / rack 2', 'Freezer -20 °C / box 11',
  'Ambient store / bay 4', 'Retention room / cabinet 6'
])

export const CONDITIONS: readonly string[] = Object.freeze([
  'Ambient, 21 °C', 'Chilled on receipt, 4 °C', 'Cool box, ice packs intact', 'Received warm, 18 °C',
  'Sealed, no headspace', 'Frozen on receipt'
])

export const REMARKS: readonly string[] = Object.freeze([
  'Sample received in good condition.',
  'Container slightly damaged; contents intact.',
  'Client requested expedited turnaround.',
  'Result confirmed by duplicate analysis.',
  'Matrix interference noted; dilution applied.',
  'Re-sampled at client request.',
  'Chain of custody form attached.',
  'Sample volume marginal for full suite.'
])
