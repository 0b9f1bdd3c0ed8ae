using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>
/// sentencepiece's Unigram encoding (unigram_model.cc, the optimized Viterbi): the segmentation with the highest total
/// piece score, where a user-defined piece scores (its UTF-8 length × the best normal score − 0.1) and a character
/// no piece covers is unknown at (the lowest normal score − 10). Ties keep the path found first.
/// </summary>
internal sealed class UnigramSegmenter
{
    private const float UnknownPenalty = 10.0f;
    private readonly SentencePieceModel model;
    private readonly float minScore = float.MaxValue;
    private readonly float maxScore = 1.17549435E-38f; // sentencepiece starts from FLT_MIN, the smallest positive float
    private readonly int longestPiece;

    public UnigramSegmenter(SentencePieceModel model)
    {
        this.model = model;
        for (int id = 0; id < model.Count; id++)
        {
            var piece = model[id];
            if (piece.Type == PieceType.Normal)
            {
                minScore = Math.Min(minScore, piece.Score);
                maxScore = Math.Max(maxScore, piece.Score);
            }
            if (piece.Type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused) longestPiece = Math.Max(longestPiece, piece.Piece.Length);
        }
    }

    public List<(int Start, int Length, int Id)> Segment(string text)
    {
        float unknownScore = minScore - UnknownPenalty;
        var best = new (int Id, float Score, int From)[text.Length + 1];  // best path ending at each position
        for (int i = 1; i <= text.Length; i++) best[i] = (-1, 0, -1);
        for (int from = 0; from < text.Length;)
        {
            float here = best[from].Score;
            int character = char.IsHighSurrogate(text[from]) && from + 1 < text.Length && char.IsLowSurrogate(text[from + 1]) ? 2 : 1;
            bool coversCharacter = false;
            for (int to = from + 1; to <= Math.Min(text.Length, from + longestPiece); to++)
            {
                var span = text.AsSpan(from, to - from);
                if (!model.TryModelPiece(span, out var id) || model[id].Type == PieceType.Unused) continue;
                // As in sentencepiece, the user-defined bonus is computed in double precision and stored as float.
                double score = model[id].Type == PieceType.UserDefined ? Encoding.UTF8.GetByteCount(span) * maxScore - 0.1 : model[id].Score;
                double candidate = score + here;
                if (best[to].From == -1 || candidate > best[to].Score) best[to] = (id, (float)candidate, from);
                if (to - from == character) coversCharacter = true;
            }
            if (!coversCharacter)
            {
                float candidate = unknownScore + here;
                if (best[from + character].From == -1 || candidate > best[from + character].Score) best[from + character] = (model.UnkId, candidate, from);
            }
            from += character;
        }

        var output = new List<(int Start, int Length, int Id)>();
        for (int end = text.Length; end > 0; end = best[end].From) output.Add((best[end].From, end - best[end].From, best[end].Id));
        output.Reverse();
        return output;
    }
}
