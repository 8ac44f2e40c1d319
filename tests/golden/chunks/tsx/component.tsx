import { useState } from "react";
import { Button } from "./Button";

interface CounterProps {
  start?: number;
  label: string;
}

export function Counter({ start = 0, label }: CounterProps) {
  const [count, setCount] = useState(start);
  return (
    <div className="counter">
      <span>{label}: {count}</span>
      <Button onClick={() => setCount(count + 1)}>+1</Button>
    </div>
  );
}

export const Reset = () => <Button onClick={() => window.location.reload()}>reset</Button>;
