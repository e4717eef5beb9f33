import Model
import NN
import TensorEngine

/// Step-by-step decoding of one SubTransformer with cached states (hat-reference.md §6):
/// - self-attention keys and values of every decoded position, per layer, grow by one row per step;
/// - cross-attention keys and values of the (concatenated, for arbitrary attention §3) encoder
///   outputs are computed once per sentence and layer, and kept once per sentence: when the rows
///   come in equal blocks per sentence (a beam), a sentence's rows attend to them as one query
///   block of a batched attention, so its keys are read once per step, not once per hypothesis
///   (fairseq copies them for every beam row).
///
/// Rows are hypotheses (sentence × beam); `reorder(rows:)` follows beam search's choices.
/// Everything runs without a tape.
public final class IncrementalDecoder {
    /// What latency datasets record of how decoding runs (`MeasurementProvenance.decoder`): a change
    /// here changes measured latencies, so rows measured before and after are not mixed silently.
    public static let implementation = "cross-attention once per sentence"

    public let model: SuperTransformer
    public let config: SubTransformerConfig
    /// Rows decoded in parallel (hypotheses).
    public private(set) var rows: Int
    /// Tokens decoded so far (the next step is position `length`).
    public private(set) var length = 0
    public let maxLength: Int
    let qkv: Int
    /// Per decoder layer: [rows, maxLength, qkv] buffers for self-attention keys and values.
    var selfKeys: [TensorStorage]
    var selfValues: [TensorStorage]
    /// Per decoder layer: a second buffer of each cache's size that `reorder` gathers into.
    var spareKeys: [TensorStorage?]
    var spareValues: [TensorStorage?]
    /// Per decoder layer: [sentences, S', qkv] cross-attention keys and values, and S' padding
    /// flags per sentence, for the sentences that rows still belong to.
    var crossKeys: [Tensor]
    var crossValues: [Tensor]
    var crossPadding: [[Bool]]
    /// The sentence (index into the cross-attention states) of each row.
    var rowSentence: [Int]
    /// Rows per sentence when row r belongs to sentence r / rowsPerBlock for every row (the
    /// batched cross-attention applies); nil otherwise.
    var rowsPerBlock: Int?
    let context = ForwardContext.evaluation()

    /// - Parameters:
    ///   - encoderOutput: the encoder run on B sentences.
    ///   - rowsPerSentence: hypotheses per sentence (the beam); row r belongs to sentence r / rowsPerSentence.
    ///   - maxLength: the most steps that will be taken.
    public init(
        model: SuperTransformer, config: SubTransformerConfig, encoderOutput: EncoderOutput,
        rowsPerSentence: Int, maxLength: Int
    ) {
        self.model = model
        self.config = config
        self.maxLength = maxLength
        qkv = model.space.qkvDim
        let sentences = encoderOutput.layerOutputs[0].shape[0]
        rows = sentences * rowsPerSentence
        rowSentence = (0..<rows).map { $0 / rowsPerSentence }
        rowsPerBlock = rowsPerSentence
        selfKeys = []
        selfValues = []
        spareKeys = Array(repeating: nil, count: config.decoderLayerNum)
        spareValues = Array(repeating: nil, count: config.decoderLayerNum)
        crossKeys = []
        crossValues = []
        crossPadding = []
        withNoGrad {
            for i in 0..<config.decoderLayerNum {
                let memory = encoderOutput.memory(lastLayers: config.attendedEncoderLayers(decoderLayer: i))
                let (k, v) = model.decoderLayers[i].encoderAttention.keyValues(memory.states)  // [B, S', qkv]
                crossKeys.append(k)
                crossValues.append(v)
                crossPadding.append(memory.padding)
                selfKeys.append(TensorStorage(count: rows * maxLength * qkv))
                selfValues.append(TensorStorage(count: rows * maxLength * qkv))
            }
        }
    }

    /// Decodes one position: `tokens` holds each row's previous token (eos at the first step).
    /// Returns log-probabilities [rows, V].
    public func step(_ tokens: [Int32]) -> Tensor {
        precondition(tokens.count == rows, "step: \(tokens.count) tokens for \(rows) rows")
        precondition(length < maxLength, "step: already decoded \(length) of at most \(maxLength) positions")
        return withNoGrad {
            let d = config.decoderEmbedDim
            var x = model.embed(
                TokenBatch(tokens: tokens, batchSize: rows, length: 1), table: model.decoderEmbedding,
                positions: model.decoderPositions, width: d, dropout: 0, context: context, startingAt: length)
            for i in 0..<config.decoderLayerNum {
                let layer = model.decoderLayers[i]
                let (w, b) = layer.selfAttention.projection(block: 0, count: 3, columns: d)
                let projected = linear(x, weight: w, bias: b)  // [rows, 1, 3·qkv]
                append(projected, layer: i)
                let keys = cacheView(selfKeys[i]), values = cacheView(selfValues[i])
                let a = layer.selfAttention.attend(
                    query: projected.narrow(-1, start: 0, length: qkv), key: keys, value: values,
                    heads: config.decoderSelfAttentionHeads[i], mask: AttentionMask(),
                    dropout: 0, outputDim: d, context: context)
                var h = layer.selfAttentionLayerNorm(x + a)
                h = layer.encoderAttentionLayerNorm(h + crossAttention(h, layer: i))
                let f = layer.fc2(relu(layer.fc1(h, outFeatures: config.decoderFFNDims[i])), outFeatures: d)
                x = layer.finalLayerNorm(h + f)
            }
            length += 1
            return logSoftmax(model.outputProjection(x).reshaped([rows, -1]))
        }
    }

    /// Encoder-decoder attention of layer i for the rows' states h [rows, 1, d] → [rows, 1, d].
    private func crossAttention(_ h: Tensor, layer i: Int) -> Tensor {
        let attention = model.decoderLayers[i].encoderAttention, d = config.decoderEmbedDim
        let query = attention.project(query: h)  // [rows, 1, qkv]
        let heads = config.decoderCrossAttentionHeads[i]
        if let g = rowsPerBlock {
            // One block of g queries per sentence against that sentence's keys.
            let out = attention.attend(
                query: query.reshaped([rows / g, g, qkv]), key: crossKeys[i], value: crossValues[i],
                heads: heads, mask: AttentionMask(keyPadding: crossPadding[i]), dropout: 0,
                outputDim: d, context: context)
            return out.reshaped([rows, 1, d])
        }
        // Rows in any other order: every row with its own copy of its sentence's states.
        let s = crossKeys[i].shape[1]
        return attention.attend(
            query: query, key: gatherRows(crossKeys[i], rowSentence), value: gatherRows(crossValues[i], rowSentence),
            heads: heads, mask: AttentionMask(keyPadding: rowSentence.flatMap { crossPadding[i][($0 * s)..<(($0 + 1) * s)] }),
            dropout: 0, outputDim: d, context: context)
    }

    /// Keeps row `rows[i]` as the new row i (beam search's selection; rows may repeat or vanish).
    public func reorder(rows newRows: [Int]) {
        precondition(newRows.allSatisfy { $0 >= 0 && $0 < rows }, "reorder: row out of range")
        if newRows.count == rows && newRows.elementsEqual(0..<rows) { return }  // nothing moves
        // Cross-attention states depend only on the sentence: they move only when sentences drop
        // out (beam search's finished sentences), and then once per sentence, in order of first use.
        let newSentences = newRows.map { rowSentence[$0] }
        var kept: [Int] = [], slot = [Int: Int]()
        for sentence in newSentences where slot[sentence] == nil {
            slot[sentence] = kept.count
            kept.append(sentence)
        }
        if let first = crossKeys.first, kept != Array(0..<first.shape[0]) {
            for i in crossKeys.indices {
                let s = crossKeys[i].shape[1]  // S' differs between layers (arbitrary attention)
                crossPadding[i] = kept.flatMap { crossPadding[i][($0 * s)..<(($0 + 1) * s)] }
            }
            crossKeys = crossKeys.map { gatherRows($0, kept) }
            crossValues = crossValues.map { gatherRows($0, kept) }
        }
        rowSentence = newSentences.map { slot[$0]! }
        let g = kept.isEmpty ? 0 : newRows.count / kept.count
        rowsPerBlock = g > 0 && rowSentence.enumerated().allSatisfy { $0.element == $0.offset / g } ? g : nil
        let block = maxLength * qkv, used = length * qkv
        // Into the spare buffer when it is large enough (rows rarely grow); the old cache becomes the spare.
        func gather(_ storage: TensorStorage, _ spare: inout TensorStorage?) -> TensorStorage {
            let out = spare.flatMap { $0.count >= newRows.count * block ? $0 : nil } ?? TensorStorage(count: newRows.count * block)
            for (i, r) in newRows.enumerated() { (out.data + i * block).update(from: storage.data + r * block, count: used) }
            spare = storage
            return out
        }
        for i in selfKeys.indices {
            selfKeys[i] = gather(selfKeys[i], &spareKeys[i])
            selfValues[i] = gather(selfValues[i], &spareValues[i])
        }
        rows = newRows.count
    }

    /// Writes this step's keys and values (columns [qkv, 3·qkv) of the projection) into the caches.
    private func append(_ projected: Tensor, layer i: Int) {
        let p = projected.dataPointer  // contiguous [rows, 1, 3·qkv]
        let block = maxLength * qkv
        for r in 0..<rows {
            (selfKeys[i].data + r * block + length * qkv).update(from: p + r * 3 * qkv + qkv, count: qkv)
            (selfValues[i].data + r * block + length * qkv).update(from: p + r * 3 * qkv + 2 * qkv, count: qkv)
        }
    }

    /// The first `length + 1` cached positions as a strided [rows, t, qkv] view (no copy).
    private func cacheView(_ storage: TensorStorage) -> Tensor {
        Tensor(storage: storage, shape: [rows, length + 1, qkv], strides: [maxLength * qkv, qkv, 1])
    }
}

/// Rows of a [N, ...] tensor in the order `rows` (a copy).
func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let x = t.contiguous()
    let inner = x.count / Swift.max(x.shape[0], 1)
    let out = TensorStorage(count: rows.count * inner)
    for (i, r) in rows.enumerated() { (out.data + i * inner).update(from: x.dataPointer + r * inner, count: inner) }
    return Tensor(storage: out, shape: [rows.count] + Array(x.shape.dropFirst()), strides: contiguousStrides([rows.count] + Array(x.shape.dropFirst())))
}
