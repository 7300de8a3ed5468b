// `recur-train import`: one entry for every model file Recur reads besides its own, the format detected from the
// content. Automated-GuitarAmpModelling / GuitarML (GuitarML.swift), RTNeural's Keras JSON and AIDA-X
// (Keras.swift), NAM's LSTM (NAM.swift), and PyTorch state dicts (TorchImport.swift, as `import-torch`).

import RecurRuntime

public enum ModelImport {
  /// The formats `import` tells apart.
  public enum Format: String, Sendable {
    case guitarML = "Automated-GuitarAmpModelling / GuitarML"
    case keras = "RTNeural Keras JSON (AIDA-X)"
    case nam = "Neural Amp Modeler LSTM"
    case torch = "PyTorch state dict"
  }

  /// Which format `root` is, from its top-level keys.
  static func detect(_ root: JSONValue) -> Format {
    if GuitarMLImport.matches(root) { return .guitarML }
    if KerasImport.matches(root) { return .keras }
    if NAMImport.matches(root) { return .nam }
    return .torch
  }

  /// Reads any supported file into a model file. A PyTorch state dict gets `window` and the encoding rules of
  /// `import-torch`; the audio formats become chains (format version 5) with the identity encoding.
  public static func modelFile(json bytes: [UInt8], window: Int = 5) throws(TrainerError) -> (
    file: ModelFile, format: Format
  ) {
    let root = try JSONValue.parse(bytes)
    let format = detect(root)
    let imported: ImportedModel
    switch format {
    case .torch: return (try TorchState.modelFile(json: bytes, window: window), .torch)
    case .guitarML: imported = try GuitarMLImport.model(root)
    case .keras: imported = try KerasImport.model(root)
    case .nam: imported = try NAMImport.model(root)
    }
    return (try imported.modelFile(), format)
  }
}
